"""Raised hands and reactions: replies and events (docs/protocol.md "Raised hands and
reactions")."""

from typing import Any, Literal

from typing_extensions import TypedDict

from salon.core.room.reactions import REACTIONS
from salon.realtime.messages.base import Timestamp, closed
from salon.realtime.messages.presence import ByPeer, Delivered

#: The allow-listed emoji, as an enum in the schema (and a union in protocol.d.ts).
Emoji = Literal[tuple(REACTIONS)]  # type: ignore[valid-type]


@closed
class HandState(TypedDict):
    """The caller's hand now: when it went up (kept when raised again), or null."""

    hand_raised_at: Timestamp | None


@closed
class Lowered(TypedDict):
    """The peers whose hand this request lowered (named ones already down are left out)."""

    lowered: list[str]


@closed
class Reaction(TypedDict):
    peer_id: str
    emoji: Emoji
    timestamp: Timestamp


REPLIES: dict[str, Any] = {
    "self.hand": HandState,
    "host.lower_hands": Lowered,
    "reaction.send": Delivered,
}
EVENTS: dict[str, Any] = {
    "hand.lowered": ByPeer,
    "reaction": Reaction,
}
