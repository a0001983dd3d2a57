"""Salon's own recording storage (the default, RealtimeKit's "own bucket"): files under
`<data_dir>/recordings/<recording id>/<file name>`, downloaded from salon itself at
`/recordings/files/<recording id>/<file name>?expires=<unix>&signature=…`.

The link is signed like chat export links (`salon.core.signed_links`) with a key of its
own derived from the deployment's secret: it works without credentials until it
expires, and changing any part of it (the recording, the file, the expiry) voids it.
The served Content-Type comes from the file's extension, from a fixed table: the files
are salon's own outputs, and a name never makes salon serve HTML or script.
"""

import asyncio
import contextlib
import errno
import os
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from salon.core import signed_links
from salon.core.clock import utcnow
from salon.files.local import write_atomically
from salon.recording.storage.base import StoredFile

#: Where the download route is mounted (`salon.api.routes.recording_files`).
FILES_PATH = "/recordings/files"
_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"
#: `<recording id>/<file name>`: exactly two plain segments, so no key leaves the root.
_KEY = re.compile(rf"^{_PART}/{_PART}$")
#: What each recording output is served as; anything else is a plain download.
CONTENT_TYPES = {
    ".mp4": "video/mp4", ".webm": "video/webm", ".m4a": "audio/mp4", ".aac": "audio/aac",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flv": "video/x-flv",
    ".tar": "application/x-tar", ".m3u8": "application/vnd.apple.mpegurl",
    ".vtt": "text/vtt; charset=utf-8", ".srt": "application/x-subrip",
    ".csv": "text/csv; charset=utf-8", ".json": "application/json",
    ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
}
#: Played in the browser tab rather than saved: audio and video.
INLINE = ("video/", "audio/")


def content_type_of(file_name: str) -> str:
    return CONTENT_TYPES.get(Path(file_name).suffix.lower(), "application/octet-stream")


class LocalStorage:
    """Recording files on salon's disk, behind signed links to salon's download route."""

    backend = "local"

    def __init__(self, root: Path, link_key: bytes, base: str, *,
                 files_path: str = FILES_PATH, what: str = "recording download link",
                 renew: str = "fetch the recording again (GET …/recordings/{id})") -> None:
        # `files_path`, `what` and `renew` let other salon-made files (session transcripts
        # and summaries, `salon.transcription.files`) use the same signed storage under a
        # route, a key and messages of their own.
        self.root = root
        self.link_key = link_key
        self.base = base.rstrip("/")
        self.files_path = files_path
        self.what = what
        self.renew = renew

    @classmethod
    def for_deployment(cls, data_dir: Path, secret: str, base: str) -> "LocalStorage":
        """The instance a server uses: `<data_dir>/recordings`, links signed with a key
        derived from the deployment's secret (the participant token signer's)."""
        return cls(data_dir / "recordings",
                   signed_links.derive_key(secret, b"salon recording file links"), base)

    def path_of(self, key: str) -> Path:
        """The file a key names; ValueError for a key that is not `<recording id>/<name>`."""
        if not _KEY.match(key) or ".." in key:
            raise ValueError(f"bad recording file key {key!r}")
        return self.root / key

    async def put(self, local_path: Path, key: str, content_type: str) -> StoredFile:
        destination = self.path_of(key)
        size = await asyncio.to_thread(_move, local_path, destination)
        return StoredFile(key=key, size=size, content_type=content_type, backend="local",
                          location=str(destination))

    async def download_url(self, stored: StoredFile,
                           expires_in: timedelta) -> tuple[str, datetime]:
        moment, expires = signed_links.expiry(utcnow(), expires_in)
        signature = signed_links.sign(self.link_key, stored.key, expires)
        url = (f"{self.base}{self.files_path}/{stored.key}"
               f"?expires={expires}&signature={signature}")
        return url, moment

    async def delete(self, stored: StoredFile) -> None:
        await asyncio.to_thread(_remove, self.path_of(stored.key))

    def verify(self, key: str, expires: int, signature: str,
               now: datetime | None = None) -> None:
        """Forbidden unless the link to `key` was signed here and has not expired."""
        signed_links.verify(self.link_key, key, expires, signature, now,
                            what=self.what, renew=self.renew)


def _remove(path: Path) -> None:
    """Remove the file, and its recording's folder once that is empty."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(OSError):  # not empty (other files), or already gone
        path.parent.rmdir()


def _move(source: Path, destination: Path) -> int:
    """Move `source` into place atomically (readers never see half a file); a copy when
    it is on another filesystem. Returns the size."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, destination)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with open(source, "rb") as into:
            write_atomically(destination, lambda out: shutil.copyfileobj(into, out, 1 << 20))
        source.unlink()
    return destination.stat().st_size
