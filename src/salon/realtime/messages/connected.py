"""Connected meetings (breakout rooms): replies and events (docs/protocol.md
"Connected meetings")."""

from typing import Any, NotRequired

from typing_extensions import TypedDict

from salon.realtime.messages.base import Json, Timestamp, closed
from salon.realtime.messages.views import Joined


@closed
class Person(TypedDict):
    """A joined, visible peer of a room in the lists."""

    id: str
    peer_id: str
    custom_participant_id: str
    preset_name: str
    display_name: str
    display_picture_url: str | None


@closed
class RoomListing(TypedDict):
    id: str
    title: str | None
    participants: list[Person]


@closed
class Countdown(TypedDict):
    ends_at: Timestamp | None
    in_secs: float


@closed
class Family(TypedDict):
    parent_meeting: RoomListing
    meetings: list[RoomListing]
    timer: Countdown | None


@closed
class Titled(TypedDict):
    id: str
    title: str | None


@closed
class Rooms(TypedDict):
    meetings: list[Titled]


@closed
class RoomId(TypedDict):
    id: str


@closed
class Dropped(TypedDict):
    meetings: list[RoomId]
    moving: list[str]


@closed
class Moving(TypedDict):
    to_meeting_id: str
    moving: list[str]


@closed
class Assignments(TypedDict):
    #: meeting id → the peers on their way there.
    assignments: dict[str, list[str]]


@closed
class DeliveredToRooms(TypedDict):
    delivered: int


@closed
class ClosedAll(TypedDict):
    moving: list[str]
    deleted: NotRequired[list[str]]


@closed
class TimerSet(Countdown):
    warn_secs: float
    by_peer_id: str | None


@closed
class TimerCancelled(TypedDict):
    cancelled: bool


@closed
class TimerStopped(TypedDict):
    """`connected_meetings.timer` when a timer was cancelled."""

    ends_at: None
    by_peer_id: str | None


@closed
class Changing(TypedDict):
    from_meeting_id: str
    to_meeting_id: str
    by_peer_id: str | None


@closed
class Changed(Joined):
    """What a join reply would say in the new meeting, plus a participant token there."""

    meeting_id: str
    by_peer_id: str | None
    token: str


@closed
class ChangeFailed(TypedDict):
    to_meeting_id: str
    message: str


@closed
class FamilyBroadcast(TypedDict):
    message: str
    payload: Json
    from_peer_id: str | None
    from_name: str | None
    from_meeting_id: str | None
    timestamp: Timestamp


REPLIES: dict[str, Any] = {
    "connected.list": Family,
    "connected.create": Rooms,
    "connected.update": Rooms,
    "connected.delete": Dropped,
    "connected.move": Moving,
    "connected.switch": Moving,
    "connected.assign": Assignments,
    "connected.broadcast": DeliveredToRooms,
    "connected.close_all": ClosedAll,
    "connected.timer": TimerSet | TimerCancelled,
}

EVENTS: dict[str, Any] = {
    "meeting.changing": Changing,
    "meeting.changed": Changed,
    "meeting.change_failed": ChangeFailed,
    "connected_meetings.updated": Family,
    "connected_meetings.broadcast": FamilyBroadcast,
    "connected_meetings.timer": TimerSet | TimerStopped,
    "connected_meetings.closing": Countdown,
}
