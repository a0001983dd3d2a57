"""What a room host needs from a peer's connection, whatever carries it."""

from collections.abc import Callable
from typing import Protocol


class PeerLink(Protocol):
    def send(self, text: str) -> None:
        """Queue one already-serialized message; never blocks the room."""

    def close(self, code: int, reason: str) -> None:
        """Close after the queued messages are sent."""

    def watch(self, on_drop: Callable[[], None]) -> None:
        """Have `on_drop` called if the link gives up on its peer by itself (one that
        reads too slowly): the host then treats the peer as disconnected."""
