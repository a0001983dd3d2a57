"""Answers about live sessions: the operator's controls (AS1–AS6) and connected meetings
(breakout rooms), a salon addition. A poll and a room's people look as they do over the
realtime protocol, so those types are the realtime messages' own."""

from typing import Any, Literal, NotRequired

from pydantic import with_config
from typing_extensions import TypedDict

from salon.api.schemas.types import CLOSED, Timestamp
from salon.realtime.messages.connected import RoomListing
from salon.realtime.messages.polls import Poll


@with_config(CLOSED)
class KickedParticipant(TypedDict):
    id: str
    name: str | None
    picture: str | None
    custom_participant_id: str
    created_at: Timestamp
    updated_at: Timestamp


@with_config(CLOSED)
class Kicked(TypedDict):
    action: Literal["kick"]
    participants: list[KickedParticipant]


@with_config(CLOSED)
class Muted(TypedDict):
    action: Literal["mute"]
    participants: list[KickedParticipant]


@with_config(CLOSED)
class KickedAll(TypedDict):
    action: Literal["kick-all"]
    kicked_participants_count: int


@with_config(CLOSED)
class MutedAll(TypedDict):
    action: Literal["mute-all"]
    muted_participants_count: int


@with_config(CLOSED)
class PollCreated(TypedDict):
    action: Literal["poll"]
    poll: Poll


# --- connected meetings ---------------------------------------------------------------------


@with_config(CLOSED)
class ClosingTimer(TypedDict):
    ends_at: Timestamp
    in_secs: float


@with_config(CLOSED)
class ConnectedMeetings(TypedDict):
    parent_meeting: RoomListing
    meetings: list[RoomListing]
    timer: ClosingTimer | None


@with_config(CLOSED)
class RoomTitle(TypedDict):
    id: str
    title: str | None


@with_config(CLOSED)
class CreatedRooms(TypedDict):
    meetings: list[RoomTitle]


@with_config(CLOSED)
class Assignments(TypedDict):
    #: Meeting id → the peer ids moving there.
    assignments: dict[str, list[str]]


@with_config(CLOSED)
class TimerSet(TypedDict):
    ends_at: Timestamp
    in_secs: float
    warn_secs: float
    by_peer_id: str | None


@with_config(CLOSED)
class TimerCancelled(TypedDict):
    #: Whether a timer was running.
    cancelled: bool


@with_config(CLOSED)
class RoomDeleted(TypedDict):
    id: str
    moved: list[str]


@with_config(CLOSED)
class Moved(TypedDict):
    to_meeting_id: str
    #: The peer ids that moved.
    moved: list[str]


@with_config(CLOSED)
class Broadcast(TypedDict):
    #: How many peers it reached.
    delivered: int


@with_config(CLOSED)
class RoomsClosed(TypedDict):
    moved: list[str]
    #: With `delete: true`: the ids of the rooms deleted.
    deleted: NotRequired[list[str]]


# --- chat files and the meeting page -------------------------------------------------------


@with_config(CLOSED)
class ChatFile(TypedDict):
    id: str
    name: str
    size: int
    content_type: str
    link: str
    created_at: Timestamp


@with_config(CLOSED)
class PageMeeting(TypedDict):
    id: str
    title: str | None


@with_config(CLOSED)
class PageParticipant(TypedDict):
    name: str


@with_config(CLOSED)
class PagePreset(TypedDict):
    name: str
    view_type: str
    can_edit_display_name: bool
    stage_enabled: bool
    can_produce: dict[str, str]
    design_tokens: dict[str, Any]


@with_config(CLOSED)
class MeetingPage(TypedDict):
    meeting: PageMeeting
    participant: PageParticipant
    preset: PagePreset


@with_config(CLOSED)
class PublicKey(TypedDict):
    publicKey: str


class PublicKeyAnswer(TypedDict):
    """RealtimeKit's odd envelope for its webhook key: a `message` beside `data`."""

    success: Literal[True]
    data: PublicKey
    message: str
