"""Recordings: replies and events (docs/protocol.md "Recordings"; docs/recording.md)."""

from typing import Any

from typing_extensions import TypedDict

from salon.realtime.messages.base import closed
from salon.realtime.messages.views import RecordingView


@closed
class RecordingStarted(TypedDict):
    recording: RecordingView


@closed
class RecordingsChanged(TypedDict):
    recordings: list[RecordingView]


@closed
class RecordingUpdated(TypedDict):
    recording: RecordingView
    #: The peer that started or steered it; null for the API, the server or the recorder.
    by_peer_id: str | None


REPLIES: dict[str, Any] = {
    "recording.start": RecordingStarted,
    "recording.stop": RecordingsChanged,
    "recording.pause": RecordingsChanged,
    "recording.resume": RecordingsChanged,
}

EVENTS: dict[str, Any] = {
    "recording.updated": RecordingUpdated,
}
