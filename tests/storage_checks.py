"""What the recording-storage tests of every backend share: salon's own storage (never
written: the backends under test take the files) and a recording file to upload."""

from pathlib import Path

from salon.recording.storage import LocalStorage, RecordingStorage, StoredFile

LOCAL = LocalStorage(Path("/nonexistent"), b"k" * 32, "http://h")


def a_file(tmp_path: Path, size: int = 300_000, name: str = "weekly-sync.mp4") -> Path:
    """A file of `size` bytes, different at every offset of a 256-byte cycle."""
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * (size // 256) + bytes(range(size % 256)))
    return path


async def put_weekly_sync(storage: RecordingStorage, tmp_path: Path
                          ) -> tuple[StoredFile, bytes]:
    """`rec-1/weekly-sync.mp4` (300 kB) put in `storage`: what it answered, and the
    bytes, to compare with what the service holds."""
    path = a_file(tmp_path)
    data = path.read_bytes()
    stored = await storage.put(path, "rec-1/weekly-sync.mp4", "video/mp4")
    assert (stored.key, stored.size, stored.content_type) == (
        "rec-1/weekly-sync.mp4", len(data), "video/mp4")
    return stored, data
