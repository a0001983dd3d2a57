"""The stage (reference §5.2): who is on it, who asked, and who lets them up.

Only peers whose preset has `stage_enabled` use the stage. `stage_access` ALLOWED peers
start ACCEPTED_TO_JOIN_STAGE and go up when they like; CAN_REQUEST peers ask and wait for
a manager (`accept_stage_requests` or `can_accept_production_requests`); NOT_ALLOWED
peers cannot ask, but a manager may invite anyone. What a peer may publish follows from
its stage status (`Peer.may_publish`), so leaving the stage stops its media.
"""

from collections.abc import Callable, Iterable

from salon.core.room.errors import RoomError, forbidden, invalid
from salon.core.room.outcome import Outcome
from salon.core.room.peer import MEDIA_KINDS, Peer, StageStatus
from salon.core.room.room import Room


def _stage_user(room: Room, peer_id: str) -> Peer:
    peer = room.actor(peer_id)
    if not peer.uses_stage:
        raise invalid("The stage is not enabled for your preset (permissions.stage_enabled).")
    return peer


def _manager(room: Room, peer_id: str) -> Peer:
    peer = room.actor(peer_id)
    if not peer.manages_stage:
        raise forbidden("manage the stage", "accept_stage_requests")
    return peer


def _set(room: Room, peer: Peer, status: StageStatus, out: Outcome) -> None:
    was_requesting = peer.stage_status is StageStatus.REQUESTED_TO_JOIN_STAGE
    crosses = StageStatus.ON_STAGE in (peer.stage_status, status) and peer.stage_status != status
    peer.stage_status = status
    if status is StageStatus.ON_STAGE:
        peer.hand_raised_at = None  # on the stage, the raised hand has done its job
    else:
        for kind in MEDIA_KINDS:
            peer.media[kind] = peer.media[kind] and peer.may_publish(kind)
    # Onto or off the stage: a large room's audience must hear of it too.
    room.announce_update(peer, out, to_everyone=crosses)
    if was_requesting or status is StageStatus.REQUESTED_TO_JOIN_STAGE:
        room.announce_stage_requests(out)


def _resting_status(peer: Peer) -> StageStatus:
    """Where a peer goes when it leaves or loses the stage."""
    if peer.permissions.stage_access == "ALLOWED":
        return StageStatus.ACCEPTED_TO_JOIN_STAGE
    return StageStatus.OFF_STAGE


def request(room: Room, peer_id: str) -> Outcome:
    peer = _stage_user(room, peer_id)
    out = Outcome()
    if peer.stage_status in (StageStatus.ACCEPTED_TO_JOIN_STAGE, StageStatus.ON_STAGE,
                             StageStatus.REQUESTED_TO_JOIN_STAGE):
        out.reply = {"stage_status": peer.stage_status.value}
        return out
    access = peer.permissions.stage_access
    if access == "ALLOWED":
        _set(room, peer, StageStatus.ACCEPTED_TO_JOIN_STAGE, out)
    elif access == "CAN_REQUEST":
        _set(room, peer, StageStatus.REQUESTED_TO_JOIN_STAGE, out)
    else:
        raise forbidden("ask to join the stage", "stage_access")
    out.reply = {"stage_status": peer.stage_status.value}
    return out


def cancel_request(room: Room, peer_id: str) -> Outcome:
    peer = _stage_user(room, peer_id)
    if peer.stage_status is not StageStatus.REQUESTED_TO_JOIN_STAGE:
        raise RoomError("CONFLICT", "You have no pending request to join the stage.")
    out = Outcome()
    _set(room, peer, StageStatus.OFF_STAGE, out)
    out.reply = {"stage_status": peer.stage_status.value}
    return out


def list_requests(room: Room, peer_id: str) -> Outcome:
    _manager(room, peer_id)
    return Outcome(reply={"requests": room.stage_requests()})


def _stage_targets(room: Room, peer_ids: Iterable[str]) -> list[Peer]:
    targets = room.host_targets(peer_ids)
    for target in targets:
        if not target.uses_stage:
            raise invalid(f"Peer {target.peer_id} does not use the stage.")
    return targets


def _move(room: Room, peer_id: str, peer_ids: Iterable[str], *, from_: set[StageStatus],
          to: Callable[[Peer], StageStatus], event: str, verb: str) -> Outcome:
    """A manager moves peers whose status is in `from_`; the others are left as they are."""
    _manager(room, peer_id)
    out = Outcome()
    moved = [t for t in _stage_targets(room, peer_ids) if t.stage_status in from_]
    for target in moved:
        _set(room, target, to(target), out)
        out.send(event, {"by_peer_id": peer_id}, {target.peer_id})
    out.reply = {verb: [t.peer_id for t in moved]}  # not those it left as they were
    return out


def grant(room: Room, peer_id: str, peer_ids: Iterable[str]) -> Outcome:
    """Approve requests, or invite peers who did not ask."""
    return _move(room, peer_id, peer_ids,
                 from_={StageStatus.OFF_STAGE, StageStatus.REQUESTED_TO_JOIN_STAGE},
                 to=lambda _: StageStatus.ACCEPTED_TO_JOIN_STAGE, event="stage.granted",
                 verb="granted")


def deny(room: Room, peer_id: str, peer_ids: Iterable[str]) -> Outcome:
    return _move(room, peer_id, peer_ids,
                 from_={StageStatus.REQUESTED_TO_JOIN_STAGE, StageStatus.ACCEPTED_TO_JOIN_STAGE},
                 to=lambda _: StageStatus.OFF_STAGE, event="stage.denied", verb="denied")


def join(room: Room, peer_id: str) -> Outcome:
    peer = _stage_user(room, peer_id)
    if peer.stage_status is StageStatus.ON_STAGE:
        return Outcome(reply={"stage_status": peer.stage_status.value})
    if peer.stage_status is not StageStatus.ACCEPTED_TO_JOIN_STAGE:
        raise RoomError("FORBIDDEN", "A host has not accepted you to the stage yet: "
                                     "request it first (stage.request).")
    out = Outcome()
    _set(room, peer, StageStatus.ON_STAGE, out)
    out.reply = {"stage_status": peer.stage_status.value}
    return out


def leave(room: Room, peer_id: str) -> Outcome:
    peer = _stage_user(room, peer_id)
    if peer.stage_status is not StageStatus.ON_STAGE:
        raise RoomError("CONFLICT", "You are not on the stage.")
    out = Outcome()
    _set(room, peer, _resting_status(peer), out)
    out.reply = {"stage_status": peer.stage_status.value}
    return out


def kick(room: Room, peer_id: str, peer_ids: Iterable[str]) -> Outcome:
    """Take peers off the stage; their media stops with it."""
    return _move(room, peer_id, peer_ids, from_={StageStatus.ON_STAGE}, to=_resting_status,
                 event="stage.kicked", verb="kicked")
