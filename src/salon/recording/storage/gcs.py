"""Google Cloud Storage (RealtimeKit's `gcs` type) with google-cloud-storage: the files go
to a bucket, written as the service account whose JSON key is the config's `secret`.

The client blocks (it is built on requests), so every call runs in a thread, never on
the event loop. Files from 8 MiB up go as a resumable upload (the library's choice).
A download link is a V4 signed URL, signed here with the service account's key (no call
to Google), valid at most 7 days as V4 allows.

`host` (a salon addition, as for S3) sends everything to another endpoint: a private
one, or an emulator in tests.
"""

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from salon.core.clock import utcnow
from salon.recording.storage.base import StorageFailed, StoredFile, UnsupportedStorage

#: V4 signed URLs live at most this long.
MAX_LINK_TTL = timedelta(days=7)


@dataclass(frozen=True)
class GcsTarget:
    """Where a `gcs` `storage_config` sends files. The service account's key is left out
    of `repr()` and `str()` (and so of logs and error messages)."""

    bucket: str
    #: The `path` of the config: a folder in the bucket ("" for the top).
    prefix: str
    #: None: Google's own endpoint.
    endpoint_url: str | None
    service_account: dict[str, Any] = field(repr=False)

    def object_name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key


#: Where Google's own service accounts get their tokens.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def read_service_account(secret: str, *, own_endpoint: bool = False) -> dict[str, Any]:
    """The service account key (the JSON file Google Cloud makes for one) in `secret`, or
    `UnsupportedStorage` saying what is wrong (never quoting it).

    Its `token_uri` is Google's unless the config names its own endpoint (`host`): salon
    posts a signed token request there, and it must not go wherever a key says."""
    try:
        info = json.loads(secret)
    except ValueError:
        info = None
    if not isinstance(info, dict) or info.get("type") != "service_account" or not all(
            isinstance(info.get(name), str) and info[name]
            for name in ("client_email", "private_key")):
        raise UnsupportedStorage(
            "storage_config.secret of type 'gcs' must be a service account key: the JSON "
            "that Google Cloud gives for one (type service_account, with client_email and "
            "private_key).")
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    try:
        key = load_pem_private_key(info["private_key"].encode(), password=None,
                                   unsafe_skip_rsa_key_validation=True)  # its type only
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):  # what Google signs with, and checks
        raise UnsupportedStorage(
            "storage_config.secret of type 'gcs': its private_key must be the service "
            "account's RSA key in PEM text, as Google Cloud gives it.")
    project = info.get("project_id")
    return {**info, "project_id": str(project) if project is not None else "salon",
            "token_uri": info.get("token_uri") if own_endpoint and info.get("token_uri")
            else GOOGLE_TOKEN_URI}


class GcsStorage:
    """Recording files in one Google Cloud Storage bucket."""

    backend = "gcs"

    def __init__(self, target: GcsTarget) -> None:
        self.target = target
        self._client: Any = None

    def __repr__(self) -> str:
        return f"GcsStorage({self.target!r})"

    def _blob(self, key: str) -> Any:
        # Made on first use, in the worker thread (the library imports and reads a lot).
        if self._client is None:
            from google.cloud import storage
            from google.oauth2 import service_account
            info = self.target.service_account
            self._client = storage.Client(
                project=info["project_id"],
                credentials=service_account.Credentials.from_service_account_info(info),
                client_options={"api_endpoint": self.target.endpoint_url}
                if self.target.endpoint_url else None)
        return self._client.bucket(self.target.bucket).blob(self.target.object_name(key))

    async def put(self, local_path: Path, key: str, content_type: str) -> StoredFile:
        size = local_path.stat().st_size
        await self._call(f"upload {key}", lambda: self._blob(key).upload_from_filename(
            str(local_path), content_type=content_type))
        return StoredFile(key=key, size=size, content_type=content_type, backend="gcs",
                          location=f"gs://{self.target.bucket}/"
                                   f"{self.target.object_name(key)}")

    async def download_url(self, stored: StoredFile,
                           expires_in: timedelta) -> tuple[str, datetime | None]:
        ttl = min(expires_in, MAX_LINK_TTL)
        now = utcnow().replace(microsecond=0)
        url = await self._call(f"sign a link to {stored.key}",
                               lambda: self._blob(stored.key).generate_signed_url(
                                   version="v4", expiration=ttl, method="GET",
                                   api_access_endpoint=self.target.endpoint_url
                                   or "https://storage.googleapis.com"))
        return url, now + ttl

    async def delete(self, stored: StoredFile) -> None:
        from google.api_core.exceptions import NotFound

        def delete() -> None:
            try:
                self._blob(stored.key).delete()
            except NotFound:
                pass  # already gone
        await self._call(f"delete {stored.key}", delete)

    async def _call(self, what: str, call: Any) -> Any:
        """Run a blocking call in a thread; its failures as `StorageFailed`, with the
        kind of error (`NotFound`, `Forbidden`, `RefreshError`…) but not its text, which
        may quote the request."""
        from google.api_core.exceptions import GoogleAPIError
        from google.auth.exceptions import GoogleAuthError
        from google.resumable_media.common import InvalidResponse
        from requests.exceptions import RequestException
        try:
            return await asyncio.to_thread(call)
        except (GoogleAPIError, GoogleAuthError, InvalidResponse, RequestException,
                OSError) as exc:
            code = getattr(exc, "code", None)
            kind = type(exc).__name__ + (f" ({code})" if isinstance(code, int) else "")
            raise StorageFailed(f"{self._where()}: could not {what}: {kind}.") from None

    def _where(self) -> str:
        endpoint = self.target.endpoint_url or "Google Cloud Storage"
        return f"gcs bucket '{self.target.bucket}' at {endpoint}"
