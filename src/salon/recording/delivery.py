"""A recorder's output files, put through storage into the recording's fields. (What a
recorder killed with its node left is found by `salon.recording.carry.left_behind`.)"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from salon.recording.spec import OutputFile
from salon.recording.storage import RecordingStorage, StorageFailed
from salon.store.models import Recording

log = logging.getLogger("salon.recording")


@dataclass(frozen=True)
class Destination:
    """Where a recording's files go (`salon.recording.storage`), and how long the links
    handed out for them work."""

    storage: RecordingStorage
    link_ttl: timedelta
    #: Where files go when `storage` refuses them (the server's own storage, for a
    #: recording with a `storage_config`): a recording is never lost to a failed upload.
    fallback: RecordingStorage | None = None


async def store(row: Recording, files: tuple[OutputFile, ...] | list[OutputFile],
                destination: Destination) -> dict[str, Any]:
    """Store each file; answer the recording's fields: its links (composite and audio;
    per file for track recordings), their expiry, the size in bytes, and `files`.

    When the destination refuses a file and there is a `fallback`, that file and the
    ones after it go to the fallback, and `storage_error` says what happened (the
    recording is then ERRORED, with its files)."""
    fields: dict[str, Any] = {"download_url": None, "audio_download_url": None,
                              "download_url_expiry": None, "file_size": None}
    listed: list[dict[str, Any]] = []
    layer = next(iter(row.config.get("layers") or {"default": {}}), "default")
    storage = destination.storage
    for file in files:
        if not file.path.exists():
            continue
        key = f"{row.id}/{file.path.name}"
        try:
            stored = await storage.put(file.path, key, file.content_type)
            url, expiry = await storage.download_url(stored, destination.link_ttl)
        except Exception as exc:  # noqa: BLE001 (whatever the library raised)
            # StorageFailed says what the destination refused; anything else is a
            # library's surprise (a config it could not use after all): the files must
            # not be lost to it either.
            if destination.fallback is None or storage is destination.fallback:
                raise
            if isinstance(exc, StorageFailed):
                reason = exc.message
            else:
                # the kind only: a library's message or traceback may quote the config
                reason = (f"{getattr(storage, 'backend', 'the')} storage could not take "
                          f"{key}: {type(exc).__name__}.")
            log.warning("recording %s: %s Its files are kept in salon's own storage.",
                        row.id, reason)
            fields["storage_error"] = f"{reason} The files are kept in salon's own storage."
            storage = destination.fallback
            stored = await storage.put(file.path, key, file.content_type)
            url, expiry = await storage.download_url(stored, destination.link_ttl)
        listed.append({"name": file.path.name, "role": file.role, "size": file.size,
                       "duration_secs": file.duration_secs, "url": url,
                       "content_type": file.content_type, "layer": layer,
                       "participant_id": file.participant_id, "peer_id": file.peer_id})
        fields["download_url_expiry"] = expiry
        if file.role == "audio":
            fields["audio_download_url"] = url
        elif fields["download_url"] is None:
            fields["download_url"] = url
        if file.role != "audio":
            fields["file_size"] = float((fields["file_size"] or 0) + file.size)
    fields["files"] = listed
    if not (row.config.get("realtimekit_bucket_config") or {}).get("enabled", True):
        # RealtimeKit: with its bucket disabled a recording has no download links.
        fields.update(download_url=None, audio_download_url=None, download_url_expiry=None)
    return fields
