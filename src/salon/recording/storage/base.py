"""What every recording storage backend does, and the errors it raises.

The media engine writes a finished file to a local path (`spec.OutputFile.path`); the
control plane hands it to a `RecordingStorage` (`put`), keeps the `StoredFile` it gets
back, and asks for a `download_url` whenever it answers with the recording (a fresh,
signed, expiring link each time, as RealtimeKit's `download_url` and
`download_url_expiry`). Backends are chosen by `salon.recording.storage.storage_for`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

from salon.core.errors import InvalidRequest, SalonError

#: Where a stored file lives: salon's own disk, one of the S3-compatible services, Azure
#: Blob Storage, Google Cloud Storage or an SFTP server.
Backend = Literal["local", "aws", "digitalocean", "cloudflare", "azure", "gcs", "sftp"]


@dataclass(frozen=True)
class StoredFile:
    """A recording file once stored: enough to link to it or delete it later."""

    #: The key salon chose (`<recording id>/<file name>`), without any bucket prefix.
    key: str
    size: int
    content_type: str
    backend: Backend
    #: Where the bytes are, for operators and logs: a path under salon's data directory,
    #: `s3://<bucket>/<object key>`, the blob's URL (Azure), `gs://<bucket>/<object name>` or
    #: `sftp://<user>@<host>:<port>/<path>`. Never a credential.
    location: str


class RecordingStorage(Protocol):
    """One place recordings go. Every call may wait on disk or network: backends with
    blocking clients do that work in a thread, off the event loop (sftp.py's client is
    asynchronous)."""

    async def put(self, local_path: Path, key: str, content_type: str) -> StoredFile:
        """Store the finished file at `local_path` under `key`; the local file may be
        moved away. Raises `StorageFailed` if the destination refuses it."""

    async def download_url(self, stored: StoredFile,
                           expires_in: timedelta) -> tuple[str, datetime | None]:
        """A link that downloads the file without credentials until it expires, and when
        it does (UTC); or, where the service has no such links (SFTP), where the file
        is, and None."""

    async def delete(self, stored: StoredFile) -> None:
        """Remove the file; removing one that is already gone is not an error."""


class UnsupportedStorage(InvalidRequest):
    """A `storage_config` this server cannot upload to (a 400 when a recording is asked
    for, rather than a recording that fails once it is over)."""


class StorageFailed(SalonError):
    """The destination refused or lost the upload (bad credentials, no such bucket, the
    network). The message names the destination but never a secret."""
