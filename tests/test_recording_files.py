"""Salon's own recording storage end to end: a file put into `LocalStorage` of a real
server (uvicorn on loopback) is downloaded at its signed link, whole or by range, and
every bad link is refused in RealtimeKit's envelope."""

import errno
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from salon.api import byte_ranges
from salon.api.app import create_app
from salon.recording.storage import LocalStorage, StoredFile
from salon.settings import Settings
from tests.servers import free_port, in_process

VIDEO = bytes(range(256)) * 4096 + b"tail"  # ~1 MiB, every offset distinguishable


@dataclass
class Served:
    storage: LocalStorage
    http: httpx.AsyncClient
    data_dir: Path


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    port = free_port()
    app = create_app(Settings(data_dir=tmp_path / "data", media_backend="none", port=port))
    async with in_process(app, port), httpx.AsyncClient(timeout=10) as http:
        yield Served(app.state.recording_storage, http, tmp_path / "data")


async def _stored(served: Served, tmp_path: Path, name: str = "weekly-sync.mp4",
                  data: bytes = VIDEO) -> StoredFile:
    finished = tmp_path / "out" / name
    finished.parent.mkdir(exist_ok=True)
    finished.write_bytes(data)
    stored = await served.storage.put(finished, f"rec-1/{name}", "video/mp4")
    assert not finished.exists(), "the finished file is moved, not copied"
    return stored


async def test_put_moves_the_file_under_the_data_dir(served: Served, tmp_path: Path) -> None:
    stored = await _stored(served, tmp_path)
    assert stored.size == len(VIDEO) and stored.backend == "local"
    assert Path(stored.location) == served.data_dir / "recordings" / "rec-1" / "weekly-sync.mp4"
    assert Path(stored.location).read_bytes() == VIDEO


async def test_signed_link_downloads_the_file(served: Served, tmp_path: Path) -> None:
    stored = await _stored(served, tmp_path)
    before = datetime.now(UTC)
    url, expiry = await served.storage.download_url(stored, timedelta(days=7))
    assert abs((expiry - before) - timedelta(days=7)) < timedelta(seconds=2)
    assert url.startswith(served.storage.base + "/recordings/files/rec-1/weekly-sync.mp4?")
    got = await served.http.get(url)
    assert got.status_code == 200 and got.content == VIDEO
    assert got.headers["content-type"] == "video/mp4"
    assert got.headers["content-length"] == str(len(VIDEO))
    assert got.headers["content-disposition"] == "inline; filename*=UTF-8''weekly-sync.mp4"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["accept-ranges"] == "bytes"


async def test_ranges_as_a_browser_seeking_asks(served: Served, tmp_path: Path) -> None:
    stored = await _stored(served, tmp_path)
    url, _ = await served.storage.download_url(stored, timedelta(hours=1))
    size = len(VIDEO)
    for header, first, last in [("bytes=100-199", 100, 199), ("bytes=1000-", 1000, size - 1),
                                ("bytes=-4", size - 4, size - 1),
                                ("bytes=0-99999999", 0, size - 1)]:
        part = await served.http.get(url, headers={"range": header})
        assert part.status_code == 206, header
        assert part.content == VIDEO[first:last + 1], header
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}", header
        assert part.headers["content-length"] == str(last - first + 1), header
    # Several ranges, or nonsense: the whole file, as the RFC allows.
    for header in ("bytes=0-1,5-6", "items=1-2", "bytes=9-3"):
        whole = await served.http.get(url, headers={"range": header})
        assert whole.status_code == 200 and whole.content == VIDEO, header
    past = await served.http.get(url, headers={"range": f"bytes={size}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{size}"
    assert past.json()["success"] is False and past.json()["error"]["code"] == 416


async def test_bad_links_are_refused_in_the_envelope(served: Served, tmp_path: Path) -> None:
    stored = await _stored(served, tmp_path)
    await _stored(served, tmp_path, "other.mp4")
    url, _ = await served.storage.download_url(stored, timedelta(hours=1))
    base, query = url.split("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    expires, signature = params["expires"], params["signature"]
    invalid = {"success": False, "error": {
        "code": 403, "message": "This recording download link is not valid."}}
    for bad in (f"{base}?expires={expires}&signature={signature[:-2]}xx",
                f"{base}?expires={int(expires) + 3600}&signature={signature}",
                url.replace("weekly-sync.mp4", "other.mp4"),
                url.replace("rec-1", "rec-2"),
                f"{base}?expires={expires}&signature={signature[:-1]}é",
                f"{base}?expires={expires}&signature=%F0%9F%98%80"):
        refused = await served.http.get(bad)
        assert (refused.status_code, refused.json()) == (403, invalid), bad
    assert (await served.http.get(base)).status_code == 400
    old, _ = await served.storage.download_url(stored, timedelta(seconds=-1))
    expired = await served.http.get(old)
    assert expired.status_code == 403 and "expired" in expired.json()["error"]["message"]


async def test_a_deleted_file_is_gone(served: Served, tmp_path: Path) -> None:
    stored = await _stored(served, tmp_path)
    url, _ = await served.storage.download_url(stored, timedelta(hours=1))
    await served.storage.delete(stored)
    await served.storage.delete(stored)  # twice: not an error
    gone = await served.http.get(url)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == 404


async def test_other_files_are_downloads_not_pages(served: Served, tmp_path: Path) -> None:
    stored = await _stored(served, tmp_path, "notes.html", b"<script>alert(1)</script>")
    url, _ = await served.storage.download_url(stored, timedelta(hours=1))
    got = await served.http.get(url)
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")


def test_keys_never_leave_the_recordings_directory(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, b"k" * 32, "http://h")
    assert storage.path_of("rec-1/a.mp4") == tmp_path / "rec-1" / "a.mp4"
    for bad in ("../a.mp4", "rec-1/../../etc/passwd", "/etc/passwd", "rec-1/.hidden",
                "rec-1/a/b.mp4", "rec-1", "rec-1/..", "rec-1/a b.mp4", "rec-1/a\x00.mp4"):
        with pytest.raises(ValueError):
            storage.path_of(bad)


def test_byte_ranges() -> None:
    assert byte_ranges.requested(None, 10) is None
    assert byte_ranges.requested("bytes=2-4", 10) == (2, 4)
    assert byte_ranges.requested("bytes=-3", 10) == (7, 9)
    assert byte_ranges.requested("bytes=-30", 10) == (0, 9)
    assert byte_ranges.requested("bytes=8-", 10) == (8, 9)
    assert byte_ranges.requested("bytes=-", 10) is None
    for unsatisfiable in ("bytes=10-", "bytes=-0", "bytes=11-12"):
        with pytest.raises(byte_ranges.Unsatisfiable):
            byte_ranges.requested(unsatisfiable, 10)


async def test_put_copies_across_filesystems(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A rename cannot cross filesystems (EXDEV): the file is copied into place whole,
    then the original removed."""
    finished = tmp_path / "elsewhere.webm"
    finished.write_bytes(VIDEO)
    rename = os.replace

    def no_cross_device(source: Any, destination: Any) -> None:
        if Path(source) == finished:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        rename(source, destination)

    monkeypatch.setattr(os, "replace", no_cross_device)
    storage = LocalStorage(tmp_path / "recordings", b"k" * 32, "http://h")
    stored = await storage.put(finished, "rec-9/elsewhere.webm", "video/webm")
    assert Path(stored.location).read_bytes() == VIDEO and stored.size == len(VIDEO)
    assert not finished.exists()
    assert [p.name for p in (tmp_path / "recordings" / "rec-9").iterdir()] == ["elsewhere.webm"]
    await storage.delete(stored)
    assert not (tmp_path / "recordings" / "rec-9").exists(), "the emptied folder goes too"
