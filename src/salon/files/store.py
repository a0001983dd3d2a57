"""The storage interface every file backend implements."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredFile:
    """An open file: its size and its bytes, read in chunks."""

    size: int
    chunks: AsyncIterator[bytes]


class FileStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, whole or not at all (replacing any earlier bytes)."""

    async def open(self, key: str) -> StoredFile:
        """The bytes under `key`; raises FileNotFoundError if there are none."""

    async def delete(self, key: str) -> None:
        """Forget `key`; deleting a missing key is not an error."""
