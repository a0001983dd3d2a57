"""Presence, waiting room, stage and host controls: replies and events.

`REPLIES` maps each request type to the `data` of its reply, `EVENTS` each event name to
its `data` (docs/protocol.md "Requests", "Events").
"""

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from salon.realtime.messages.base import Json, MediaKind, StageStatus, Timestamp, closed
from salon.realtime.messages.views import (
    Counts,
    Joined,
    MediaFlags,
    PeerView,
    RoomState,
    SelfView,
    WaitingView,
)

#: Why a joined peer left (`peer.left`).
LeftReason = Literal["left", "disconnected", "kicked", "ended", "moved"]
#: Why a peer left the waiting room (`waitlist.removed`).
WaitingRemovedReason = Literal["admitted", "rejected", "left", "disconnected", "kicked",
                               "ended"]


# --- replies ------------------------------------------------------------------------------


@closed
class JoinReply(Joined):
    protocol: int
    resumed: bool
    #: The cluster's live nodes' base URLs, the answering node first; [] on one node.
    nodes: list[str]


@closed
class Pong(TypedDict):
    pong: Literal[True]


@closed
class Left(TypedDict):
    left: Literal[True]


@closed
class State(TypedDict):
    """A full resync; `room` only once joined."""

    status: Literal["waiting", "joined"]
    self: SelfView
    room: NotRequired[RoomState]


@closed
class NameReply(TypedDict):
    name: str


@closed
class MediaState(TypedDict):
    media: MediaFlags


@closed
class PinnedPeer(TypedDict):
    pinned_peer_id: str | None


@closed
class Waiting(TypedDict):
    waiting: list[WaitingView]


@closed
class Admitted(TypedDict):
    admitted: list[str]


@closed
class Rejected(TypedDict):
    rejected: list[str]


@closed
class StageState(TypedDict):
    stage_status: StageStatus


@closed
class StageRequests(TypedDict):
    requests: list[WaitingView]


@closed
class Granted(TypedDict):
    granted: list[str]


@closed
class Denied(TypedDict):
    denied: list[str]


@closed
class Kicked(TypedDict):
    kicked: list[str]


@closed
class KickedAll(TypedDict):
    kicked_participants_count: int


@closed
class Disabled(TypedDict):
    disabled: list[str]
    kinds: list[MediaKind]


@closed
class Allowed(TypedDict):
    allowed: list[str]
    kinds: list[MediaKind]


@closed
class AllOff(TypedDict):
    count: int
    kinds: list[MediaKind]


@closed
class Updated(TypedDict):
    updated: list[str]


@closed
class Delivered(TypedDict):
    delivered_to: int


@closed
class PeersPage(TypedDict):
    """One page of `peers.list`, in joining order; `next_cursor` null on the last."""

    peers: list[PeerView]
    next_cursor: str | None
    counts: Counts


REPLIES: dict[str, Any] = {
    "join": JoinReply,
    "ping": Pong,
    "leave": Left,
    "state": State,
    "self.rename": NameReply,
    "self.media": MediaState,
    "peer.pin": PinnedPeer,
    "waitlist.list": Waiting,
    "waitlist.admit": Admitted,
    "waitlist.reject": Rejected,
    "stage.request": StageState,
    "stage.cancel_request": StageState,
    "stage.list_requests": StageRequests,
    "stage.grant": Granted,
    "stage.deny": Denied,
    "stage.join": StageState,
    "stage.leave": StageState,
    "stage.kick": Kicked,
    "host.kick": Kicked,
    "host.kick_all": KickedAll,
    "host.disable_media": Disabled,
    "host.allow_media": Allowed,
    "host.mute_all": AllOff,
    "host.disable_all_video": AllOff,
    "host.update_permissions": Updated,
    "broadcast": Delivered,
    "peers.list": PeersPage,
}


# --- events -------------------------------------------------------------------------------


@closed
class PeerEvent(TypedDict):
    peer: PeerView


@closed
class PeerLeft(TypedDict):
    peer_id: str
    reason: LeftReason


@closed
class SelfUpdated(TypedDict):
    self: SelfView


@closed
class SelfAdmitted(TypedDict):
    self: SelfView
    room: RoomState


@closed
class Nothing(TypedDict):
    """An event that says everything by its name (`self.rejected`)."""


@closed
class ByPeer(TypedDict):
    """Who did it; null when the operator acted over REST."""

    by_peer_id: str | None


@closed
class RoomEnded(ByPeer):
    reason: str


@closed
class RoomPinned(TypedDict):
    peer_id: str | None


@closed
class WaitingAdded(TypedDict):
    peer: WaitingView


@closed
class WaitingRemoved(TypedDict):
    peer_id: str
    reason: WaitingRemovedReason


@closed
class MediaDisabled(ByPeer):
    kinds: list[MediaKind]
    locked: bool


@closed
class PermissionsUpdated(ByPeer):
    #: The deep-partial preset `permissions` patch, as the host sent it.
    patch: dict[str, Json]


@closed
class BroadcastEvent(TypedDict):
    type: str
    payload: Json
    from_peer_id: str | None
    timestamp: Timestamp


@closed
class AudienceDelta(TypedDict):
    """A large room's audience presence, batched: the counts now, who of the audience
    came (PeerViews, at most 10) and went (ids, at most 100) since the last delta;
    `more` when some were left out. `large` false: the room is small again, ask for
    `state` to see everyone."""

    large: bool
    counts: Counts
    joined: list[PeerView]
    left: list[str]
    more: bool


EVENTS: dict[str, Any] = {
    "peer.joined": PeerEvent,
    "peer.left": PeerLeft,
    "peer.updated": PeerEvent,
    "self.updated": SelfUpdated,
    "self.admitted": SelfAdmitted,
    "self.rejected": Nothing,
    "self.kicked": ByPeer,
    "room.ended": RoomEnded,
    "room.pinned": RoomPinned,
    "waitlist.added": WaitingAdded,
    "waitlist.removed": WaitingRemoved,
    "stage.requests": StageRequests,
    "stage.granted": ByPeer,
    "stage.denied": ByPeer,
    "stage.kicked": ByPeer,
    "media.disabled": MediaDisabled,
    "permissions.updated": PermissionsUpdated,
    "broadcast": BroadcastEvent,
    "audience.delta": AudienceDelta,
}
