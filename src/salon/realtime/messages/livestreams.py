"""Livestreams: replies and events (docs/protocol.md "Livestreams"; docs/livestreaming.md)."""

from typing import Any

from typing_extensions import TypedDict

from salon.realtime.messages.base import closed
from salon.realtime.messages.views import LivestreamView


@closed
class LivestreamChanged(TypedDict):
    livestream: LivestreamView


@closed
class LivestreamUpdated(TypedDict):
    livestream: LivestreamView
    #: The peer that started or stopped it; null for the API, the server or the encoder.
    by_peer_id: str | None


REPLIES: dict[str, Any] = {
    "livestream.start": LivestreamChanged,
    "livestream.stop": LivestreamChanged,
}

EVENTS: dict[str, Any] = {
    "livestream.updated": LivestreamUpdated,
}
