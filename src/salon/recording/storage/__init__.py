"""PLACEHOLDER until `salon.recording.storage` (another engineer's) merges: local disk
only. It exposes the two names the control plane calls, `check_storage_config` and
`storage_for`; the real module replaces this file whole.

- `check_storage_config(None)` passes (salon's own local storage); any `storage_config`
  is refused with 400, since no uploader exists here yet.
- `storage_for(...)` keeps each file under `<data_dir>/recordings/store/<recording id>/`
  and answers a signed, expiring URL for it. No route serves that URL in this
  placeholder: the real module brings the download route.
"""

import asyncio
import base64
import hashlib
import hmac
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from salon.core.clock import utcnow
from salon.core.errors import InvalidRequest

#: Where the signed links point (served by the real storage module's route).
FILES_PATH = "/recordings/files"


def check_storage_config(storage_config: Mapping[str, Any] | None) -> None:
    """Refuse (400) a storage this server cannot write to."""
    if storage_config:
        kind = storage_config.get("type", "?")
        raise InvalidRequest(f"storage_config of type '{kind}' is not supported yet: leave "
                             "storage_config out to keep recordings on this server.")


@dataclass(frozen=True)
class StoredFile:
    url: str
    expiry: datetime
    #: Where the bytes are (local storage).
    path: Path


@dataclass(frozen=True)
class LocalStorage:
    root: Path
    base_url: str
    key: bytes
    ttl_secs: int

    def sign(self, recording_id: str, name: str, expires: int) -> str:
        message = f"{recording_id}/{name}.{expires}".encode()
        mac = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    async def put(self, recording_id: str, source: Path, name: str) -> StoredFile:
        target = self.root / recording_id / name
        await asyncio.to_thread(_move, source, target)
        expiry = utcnow().replace(microsecond=0) + timedelta(seconds=self.ttl_secs)
        expires = int(expiry.timestamp())
        url = (f"{self.base_url}{FILES_PATH}/{recording_id}/{name}?expires={expires}"
               f"&signature={self.sign(recording_id, name, expires)}")
        return StoredFile(url, expiry, target)


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source != target:
        shutil.move(source, target)


def storage_for(storage_config: Mapping[str, Any] | None, *, data_dir: Path, base_url: str,
                secret: str, ttl_secs: int) -> LocalStorage:
    """The storage a recording's files go to (here: always this server's disk)."""
    check_storage_config(storage_config)
    key = hmac.new(secret.encode(), b"salon recording links", hashlib.sha256).digest()
    return LocalStorage(data_dir / "recordings" / "store", base_url.rstrip("/"), key, ttl_secs)
