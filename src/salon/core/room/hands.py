"""Raised hands: a peer asks for the floor, hosts see who asked and in which order.

The hand is room state (PeerView `hand_raised_at`), not a message: a host who joins
late, or a page that reloads, sees every raised hand and the true order. Raise times are
kept distinct at the wire's millisecond resolution — a raise in the same millisecond as
another (or in a clock step back) is stamped one millisecond after the latest — so
sorting by `hand_raised_at` is the order the room saw the hands go up.

Lowering: the peer itself (`self.hand`), a host (`host.lower_hands`, permission
`disable_participant_audio`: whoever may take someone's microphone may also settle who
speaks next), going ON_STAGE (the hand did its job: `stage._set`), and leaving (the
peer and its hand are gone together).
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from salon.core.clock import isoformat
from salon.core.room.errors import RoomError, forbidden
from salon.core.room.outcome import Outcome
from salon.core.room.peer import Peer
from salon.core.room.room import Room

#: The preset permission that lets a peer lower others' hands (docs/protocol.md).
LOWER_PERMISSION = "disable_participant_audio"
_TICK = timedelta(milliseconds=1)


def _announce(room: Room, peer: Peer, out: Outcome) -> None:
    """Tell those who see the peer, and the peer itself; unlike `Room.announce_update`,
    nothing about media changed, so the media plane is left alone."""
    out.send("peer.updated", {"peer": peer.public_view(room.pinned_peer_id)},
             room.viewers_of(peer))
    out.send("self.updated", {"self": peer.self_view(room.pinned_peer_id)}, {peer.peer_id})


def _raise_time(room: Room, now: datetime) -> datetime:
    """`now` at millisecond resolution, but after every hand already up."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    stamp = now.replace(microsecond=now.microsecond // 1000 * 1000)
    latest = max((p.hand_raised_at for p in room.peers.values() if p.hand_raised_at),
                 default=None)
    if latest is not None and stamp <= latest:
        stamp = latest + _TICK
    return stamp


def set_hand(room: Room, peer_id: str, raised: bool, now: datetime) -> Outcome:
    """The peer raises or lowers its own hand. Raising a raised hand keeps its place in
    the queue (the original time), and lowering a lowered one changes nothing."""
    peer = room.actor(peer_id)
    if peer.hidden:
        raise RoomError("FORBIDDEN", "Hidden participants cannot raise a hand.")
    out = Outcome()
    if raised and peer.hand_raised_at is None:
        peer.hand_raised_at = _raise_time(room, now)
        _announce(room, peer, out)
    elif not raised and peer.hand_raised_at is not None:
        peer.hand_raised_at = None
        _announce(room, peer, out)
    out.reply = {"hand_raised_at": isoformat(peer.hand_raised_at)}
    return out


def lower_hands(room: Room, by: str | None, peer_ids: Iterable[str] | None) -> Outcome:
    """A host lowers the named peers' hands, or every raised hand when `peer_ids` is
    None. Named peers whose hand is already down are no error (two hosts may click at
    once); the reply lists the hands this request lowered."""
    if by is not None:
        host = room.actor(by)
        if not getattr(host.permissions, LOWER_PERMISSION):
            raise forbidden("lower others' hands", LOWER_PERMISSION)
    if peer_ids is None:
        targets = [p for p in room.joined if p.hand_raised_at is not None]
    else:
        targets = [p for p in room.targets(peer_ids) if p.hand_raised_at is not None]
    out = Outcome(reply={"lowered": [t.peer_id for t in targets]})
    for target in targets:
        target.hand_raised_at = None
        out.send("hand.lowered", {"by_peer_id": by}, {target.peer_id})
        _announce(room, target, out)
    return out

