"""A recorder's output files: put through storage into the recording's fields, or found
on disk after a crash (only files that still open as media are kept)."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import av

from salon.recording.outputs import CONTENT_TYPES, probe
from salon.recording.spec import OutputFile
from salon.recording.storage import RecordingStorage
from salon.store.models import Recording


@dataclass(frozen=True)
class Destination:
    """Where a recording's files go (`salon.recording.storage`), and how long the links
    handed out for them work."""

    storage: RecordingStorage
    link_ttl: timedelta


async def store(row: Recording, files: tuple[OutputFile, ...] | list[OutputFile],
                destination: Destination) -> dict[str, Any]:
    """Store each file; answer the recording's fields: its links (composite and audio;
    per file for track recordings), their expiry, the size in bytes, and `files`."""
    fields: dict[str, Any] = {"download_url": None, "audio_download_url": None,
                              "download_url_expiry": None, "file_size": None}
    listed: list[dict[str, Any]] = []
    layer = next(iter(row.config.get("layers") or {"default": {}}), "default")
    for file in files:
        if not file.path.exists():
            continue
        stored = await destination.storage.put(file.path, f"{row.id}/{file.path.name}",
                                               file.content_type)
        url, expiry = await destination.storage.download_url(stored, destination.link_ttl)
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


def left_behind(directory: Path) -> list[OutputFile]:
    """The files a recorder left in its work directory that still open as media (an MP4
    the recorder finalized before the server died); others are dropped."""
    if not directory.is_dir():
        return []
    kept = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in CONTENT_TYPES:
            continue
        role = "audio" if path.suffix in (".m4a", ".mp3") else "composite"
        try:
            kept.append(probe(path, role))
        except (av.error.FFmpegError, OSError, ValueError):
            continue  # not finalized: it does not play
    return kept
