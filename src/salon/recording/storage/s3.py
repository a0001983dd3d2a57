"""S3-compatible storage (RealtimeKit's `aws`, `digitalocean` and `cloudflare` R2) with
boto3. boto3 blocks, so every call runs in a thread (`asyncio.to_thread`), never on the
event loop; `upload_file` switches to a multipart upload for large files by itself.

A download link is a presigned GET (signature version 4, which all three accept) that
expires when asked; at most 7 days, as SigV4 allows no longer.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from salon.core.clock import utcnow
from salon.recording.storage.base import StorageFailed, StoredFile

#: SigV4 presigned URLs live at most this long.
MAX_LINK_TTL = timedelta(days=7)
#: Parts of 16 MiB from 64 MiB up: a 1 h recording (~300 MB) goes in ~19 parts.
TRANSFER = TransferConfig(multipart_threshold=64 * 1024 * 1024,
                          multipart_chunksize=16 * 1024 * 1024)


@dataclass(frozen=True)
class S3Target:
    """Where an S3-compatible `storage_config` sends files. The credentials are left out
    of `repr()` and `str()` (and so of logs and error messages)."""

    type: Literal["aws", "digitalocean", "cloudflare"]
    bucket: str
    region: str
    #: None: AWS's own endpoint for the region.
    endpoint_url: str | None
    #: The `path` of the config: a folder in the bucket ("" for the top).
    prefix: str
    access_key: str = field(repr=False)
    secret: str = field(repr=False)

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key


class S3Storage:
    """Recording files in one bucket of an S3-compatible service."""

    def __init__(self, target: S3Target) -> None:
        self.target = target
        self.backend = target.type
        self._client: Any = None

    def __repr__(self) -> str:
        return f"S3Storage({self.target!r})"

    def _s3(self) -> Any:
        # Made on first use, in the worker thread: creating a client reads files.
        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3", region_name=self.target.region, endpoint_url=self.target.endpoint_url,
                aws_access_key_id=self.target.access_key,
                aws_secret_access_key=self.target.secret,
                config=Config(signature_version="s3v4", retries={"mode": "standard"},
                              # Own endpoints (R2, Spaces, MinIO) by path: no DNS per bucket.
                              s3={"addressing_style": "path"}
                              if self.target.endpoint_url else {}))
        return self._client

    async def put(self, local_path: Path, key: str, content_type: str) -> StoredFile:
        name = self.target.object_key(key)
        size = local_path.stat().st_size
        await self._call(f"upload {key}", lambda: self._s3().upload_file(
            str(local_path), self.target.bucket, name,
            ExtraArgs={"ContentType": content_type}, Config=TRANSFER))
        return StoredFile(key=key, size=size, content_type=content_type,
                          backend=self.target.type,
                          location=f"s3://{self.target.bucket}/{name}")

    async def download_url(self, stored: StoredFile,
                           expires_in: timedelta) -> tuple[str, datetime]:
        ttl = min(expires_in, MAX_LINK_TTL)
        now = utcnow().replace(microsecond=0)
        url = await self._call(f"sign a link to {stored.key}",
                               lambda: self._s3().generate_presigned_url(
                                   "get_object", ExpiresIn=int(ttl.total_seconds()), Params={
                                       "Bucket": self.target.bucket,
                                       "Key": self.target.object_key(stored.key)}))
        return url, now + ttl

    async def delete(self, stored: StoredFile) -> None:
        await self._call(f"delete {stored.key}", lambda: self._s3().delete_object(
            Bucket=self.target.bucket, Key=self.target.object_key(stored.key)))

    async def _call(self, what: str, call: Any) -> Any:
        """Run a blocking boto3 call in a thread; its failures as `StorageFailed`, with
        the service's error code but not its request (which may echo the access key)."""
        try:
            return await asyncio.to_thread(call)
        except (Boto3Error, BotoCoreError, ClientError, OSError) as exc:
            # `upload_file` wraps the service's ClientError in S3UploadFailedError.
            cause = exc if isinstance(exc, ClientError) else exc.__context__
            code = (cause.response.get("Error", {}).get("Code", "error")
                    if isinstance(cause, ClientError) else type(exc).__name__)
            raise StorageFailed(f"{self._where()}: could not {what}: {code}.") from None

    def _where(self) -> str:
        endpoint = self.target.endpoint_url or f"AWS {self.target.region}"
        return f"{self.target.type} bucket '{self.target.bucket}' at {endpoint}"
