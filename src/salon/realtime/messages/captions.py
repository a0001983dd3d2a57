"""Live captions: the transcriber's reply and the `transcript` event (docs/protocol.md
"Captions")."""

from typing import Any

from typing_extensions import TypedDict

from salon.realtime.messages.base import Timestamp, closed
from salon.realtime.messages.presence import Delivered


@closed
class Transcript(TypedDict):
    """RealtimeKit's transcript payload (its keys, camelCase), one utterance's text so
    far (`isPartialTranscript`) or its final text; `id` is the same for both."""

    id: str
    peerId: str
    userId: str
    customParticipantId: str | None
    name: str
    transcript: str
    isPartialTranscript: bool
    timestamp: Timestamp


REPLIES: dict[str, Any] = {"transcript.publish": Delivered}
EVENTS: dict[str, Any] = {"transcript": Transcript}
