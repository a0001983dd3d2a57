"""Azure Blob Storage (RealtimeKit's `azure` type) with azure-storage-blob: the files go to
a container (`bucket`) of the storage account that `access_key`, a connection string,
names (RealtimeKit's way: `secret` and `region` are not read).

The client blocks, so every call runs in a thread, never on the event loop; large files
go up in blocks (the library's choice). A download link is a read-only SAS for the one
blob, signed here with the account key from the connection string (no call to Azure), so
the connection string must carry `AccountKey`.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from salon.core.clock import utcnow
from salon.recording.storage.base import StorageFailed, StoredFile, UnsupportedStorage


@dataclass(frozen=True)
class AzureTarget:
    """Where an `azure` `storage_config` sends files. The connection string (which holds
    the account key) is left out of `repr()` and `str()`, and so of logs and errors."""

    container: str
    #: The `path` of the config: a folder in the container ("" for the top).
    prefix: str
    account: str
    connection_string: str = field(repr=False)

    def blob_name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key


def read_connection_string(connection_string: str) -> str:
    """The storage account's name, from a connection string with `AccountName` and
    `AccountKey`; else `UnsupportedStorage` saying what is missing (never quoting it)."""
    from azure.storage.blob import BlobServiceClient  # here: most servers never need it
    try:
        service = BlobServiceClient.from_connection_string(connection_string)
    except (ValueError, TypeError):
        service = None
    if service is None or not getattr(service.credential, "account_key", None):
        raise UnsupportedStorage(
            "storage_config.access_key of type 'azure' must be the storage account's "
            "connection string, with AccountName and AccountKey (Access keys in the "
            "Azure portal).")
    return str(service.account_name)


class AzureStorage:
    """Recording files in one container of an Azure storage account."""

    backend = "azure"

    def __init__(self, target: AzureTarget) -> None:
        self.target = target
        self._service: Any = None

    def __repr__(self) -> str:
        return f"AzureStorage({self.target!r})"

    def _blob(self, key: str) -> Any:
        if self._service is None:  # in the worker thread: the import is heavy
            from azure.storage.blob import BlobServiceClient
            self._service = BlobServiceClient.from_connection_string(
                self.target.connection_string)
        return self._service.get_blob_client(self.target.container,
                                             self.target.blob_name(key))

    async def put(self, local_path: Path, key: str, content_type: str) -> StoredFile:
        from azure.storage.blob import ContentSettings
        size = local_path.stat().st_size

        def upload() -> str:
            blob = self._blob(key)
            with local_path.open("rb") as data:
                blob.upload_blob(data, overwrite=True,
                                 content_settings=ContentSettings(content_type=content_type))
            return str(blob.url)
        url = await self._call(f"upload {key}", upload)
        return StoredFile(key=key, size=size, content_type=content_type, backend="azure",
                          location=url)

    async def download_url(self, stored: StoredFile,
                           expires_in: timedelta) -> tuple[str, datetime | None]:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas
        now = utcnow().replace(microsecond=0)
        expiry = now + expires_in

        def sign() -> str:
            blob = self._blob(stored.key)
            sas = generate_blob_sas(
                self.target.account, self.target.container, self.target.blob_name(stored.key),
                account_key=self._service.credential.account_key,
                permission=BlobSasPermissions(read=True), expiry=expiry)
            return f"{blob.url}?{sas}"
        return await self._call(f"sign a link to {stored.key}", sign), expiry

    async def delete(self, stored: StoredFile) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        def delete() -> None:
            try:
                self._blob(stored.key).delete_blob()
            except ResourceNotFoundError:
                pass  # already gone
        await self._call(f"delete {stored.key}", delete)

    async def _call(self, what: str, call: Any) -> Any:
        """Run a blocking call in a thread; its failures as `StorageFailed`, with Azure's
        error code (`ContainerNotFound`, `AuthorizationFailure`…) but not its message,
        which may quote the request."""
        from azure.core.exceptions import AzureError
        try:
            return await asyncio.to_thread(call)
        except (AzureError, OSError) as exc:
            code = getattr(exc, "error_code", None)
            reason = str(getattr(code, "value", code) or type(exc).__name__)
            raise StorageFailed(f"{self._where()}: could not {what}: {reason}.") from None

    def _where(self) -> str:
        return f"azure container '{self.target.container}' of account '{self.target.account}'"
