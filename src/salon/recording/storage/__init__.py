"""Where finished recording files go, and the signed, expiring links to them.

`storage_for(storage_config, local=…)` picks the backend from RealtimeKit's
`storage_config`: salon's own disk (`LocalStorage`, the default, downloaded from salon
at `/recordings/files/…`), an S3-compatible service (`S3Storage`: aws, digitalocean,
cloudflare R2), Azure Blob Storage (`AzureStorage`), Google Cloud Storage
(`GcsStorage`) or an SSH server (`SftpStorage`). `check_storage_config` refuses, as a
400, a config its backend could not use, naming the field. Every backend is a
`RecordingStorage`: `put` a finished file, get a `download_url` for it, `delete` it. Secrets in a `storage_config` are never
returned, logged or put in an error message.
"""

from salon.recording.storage.azure import AzureStorage, AzureTarget
from salon.recording.storage.base import (
    RecordingStorage,
    StorageFailed,
    StoredFile,
    UnsupportedStorage,
)
from salon.recording.storage.choose import (
    check_storage_config,
    storage_for,
)
from salon.recording.storage.gcs import GcsStorage, GcsTarget
from salon.recording.storage.local import LocalStorage
from salon.recording.storage.s3 import S3Storage, S3Target
from salon.recording.storage.sftp import SftpStorage, SftpTarget

__all__ = ["AzureStorage", "AzureTarget", "GcsStorage", "GcsTarget", "LocalStorage", "RecordingStorage", "S3Storage", "S3Target", "SftpStorage",
           "SftpTarget", "StorageFailed", "StoredFile", "UnsupportedStorage",
           "check_storage_config", "storage_for"]
