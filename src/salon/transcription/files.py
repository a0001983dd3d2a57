"""Where a session's transcript and summary files are stored, and the signed links to them.

Salon's own disk (`LocalStorage`, as recordings without a `storage_config`), under
`{data_dir}/transcription/files/{session_id}/`: `transcript.csv`, `.json`, `.srt`,
`.vtt` and `summary.md` or `summary.txt`. They are downloaded from salon itself at
`/transcription/files/{session_id}/{file name}?expires=…&signature=…`, links signed with
a key of their own (a recording link cannot open a transcript, nor the reverse).

The meeting's `recording_config.storage_config` is deliberately not used: RealtimeKit
serves transcripts and summaries from its own storage only, and a link must be signable
afresh on every GET long after the meeting's config has changed.
"""

from dataclasses import asdict
from pathlib import Path
from typing import Any

from salon.core import signed_links
from salon.recording.storage import LocalStorage, StoredFile

#: Where the download route is mounted (`salon.api.routes.transcription_files`).
FILES_PATH = "/transcription/files"

#: Content types of the files (RealtimeKit's formats, and the summary's two).
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


def storage_for_deployment(data_dir: Path, secret: str, base: str) -> LocalStorage:
    """The storage a server keeps transcripts and summaries in."""
    return LocalStorage(
        data_dir / "transcription" / "files",
        signed_links.derive_key(secret, b"salon transcript file links"), base,
        files_path=FILES_PATH, what="transcript or summary download link",
        renew="ask for it again (GET …/sessions/{id}/transcript or …/summary)")


def transcript_key(session_id: str, fmt: str) -> str:
    return f"{session_id}/transcript.{fmt}"


def summary_key(session_id: str, extension: str) -> str:
    return f"{session_id}/summary.{extension}"


def content_type(file_name: str) -> str:
    return CONTENT_TYPES.get(file_name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def to_json(stored: StoredFile) -> dict[str, Any]:
    """A stored file as kept in a row's JSON column."""
    return asdict(stored)


def from_json(kept: dict[str, Any]) -> StoredFile:
    return StoredFile(**kept)
