"""What a room host needs from a peer's connection, whatever carries it."""

from typing import Protocol


class PeerLink(Protocol):
    def send(self, text: str) -> None:
        """Queue one already-serialized message; never blocks the room."""

    def close(self, code: int, reason: str) -> None:
        """Close after the queued messages are sent."""
