"""Webhook subscriptions: the event names RealtimeKit delivers and the body rules."""

from typing import Annotated, Literal

from pydantic import Field, field_validator

from salon.core.schema import Flag, HttpUrl, Strict, text

WebhookEvent = Literal[
    "meeting.started",
    "meeting.ended",
    "meeting.participantJoined",
    "meeting.participantLeft",
    "meeting.chatSynced",
    "recording.statusUpdate",
    "livestreaming.statusUpdate",
    "meeting.transcript",
    "meeting.summary",
]


class WebhookBody(Strict):
    """Create (W2) and replace (W4) body."""

    name: text(255, min_length=1, name=True)
    url: HttpUrl
    events: Annotated[list[WebhookEvent], Field(min_length=1)]
    enabled: Flag = True

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[str]) -> list[str]:
        return list(dict.fromkeys(events))
