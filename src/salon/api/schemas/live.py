"""Answers about live sessions: the operator's controls (AS1–AS6) and connected meetings
(breakout rooms), a salon addition. A poll and a room's people look as they do over the
realtime protocol, and several connected-meeting answers are the realtime replies' own,
so those types come from `salon.realtime.messages`."""

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from salon.realtime.messages.base import Timestamp, closed
from salon.realtime.messages.connected import Assignments, RoomListing, TimerCancelled, Titled
from salon.realtime.messages.connected import DeliveredToRooms as Broadcast
from salon.realtime.messages.connected import Rooms as CreatedRooms
from salon.realtime.messages.polls import Poll

#: The connected-meeting answers that are the realtime replies' own shapes.
RoomTitle = Titled
__all__ = ["Assignments", "Broadcast", "CreatedRooms", "RoomTitle", "TimerCancelled"]


@closed
class KickedParticipant(TypedDict):
    id: str
    name: str | None
    picture: str | None
    custom_participant_id: str
    created_at: Timestamp
    updated_at: Timestamp


@closed
class Kicked(TypedDict):
    action: Literal["kick"]
    participants: list[KickedParticipant]


@closed
class Muted(TypedDict):
    action: Literal["mute"]
    participants: list[KickedParticipant]


@closed
class KickedAll(TypedDict):
    action: Literal["kick-all"]
    kicked_participants_count: int


@closed
class MutedAll(TypedDict):
    action: Literal["mute-all"]
    muted_participants_count: int


@closed
class PollCreated(TypedDict):
    action: Literal["poll"]
    poll: Poll


# --- connected meetings ---------------------------------------------------------------------


@closed
class ClosingTimer(TypedDict):
    ends_at: Timestamp
    in_secs: float


@closed
class ConnectedMeetings(TypedDict):
    parent_meeting: RoomListing
    meetings: list[RoomListing]
    timer: ClosingTimer | None


@closed
class TimerSet(TypedDict):
    ends_at: Timestamp
    in_secs: float
    warn_secs: float
    by_peer_id: str | None


@closed
class RoomDeleted(TypedDict):
    id: str
    moved: list[str]


@closed
class Moved(TypedDict):
    to_meeting_id: str
    #: The peer ids that moved.
    moved: list[str]


@closed
class RoomsClosed(TypedDict):
    moved: list[str]
    #: With `delete: true`: the ids of the rooms deleted.
    deleted: NotRequired[list[str]]


# --- chat files and the meeting page -------------------------------------------------------


@closed
class ChatFile(TypedDict):
    id: str
    name: str
    size: int
    content_type: str
    link: str
    created_at: Timestamp


@closed
class PageMeeting(TypedDict):
    id: str
    title: str | None
    #: INACTIVE: the meeting refuses joins (MEETING_INACTIVE); the page says so before Join.
    status: Literal["ACTIVE", "INACTIVE"]


@closed
class PageParticipant(TypedDict):
    name: str


@closed
class PageVideoStreams(TypedDict):
    desktop: int
    mobile: int


@closed
class PagePreset(TypedDict):
    name: str
    view_type: str
    #: The preset's `config.max_video_streams`: the stage's tiles per page (desktop or phone).
    max_video_streams: PageVideoStreams
    can_edit_display_name: bool
    stage_enabled: bool
    can_produce: dict[str, str]
    design_tokens: dict[str, Any]


@closed
class MeetingPage(TypedDict):
    meeting: PageMeeting
    participant: PageParticipant
    preset: PagePreset


@closed
class PublicKey(TypedDict):
    publicKey: str


class PublicKeyAnswer(TypedDict):
    """RealtimeKit's odd envelope for its webhook key: a `message` beside `data`."""

    success: Literal[True]
    data: PublicKey
    message: str
