"""Host controls (reference §5.4): kick, mute, permissions, broadcast.

Each control is open to a peer whose preset grants it, and to the operator over REST
(`by` is None), who may do everything.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from salon.core.clock import isoformat
from salon.core.merge import deep_merge
from salon.core.presets import Permissions
from salon.core.room.errors import forbidden, invalid
from salon.core.room.outcome import Outcome
from salon.core.room.peer import MEDIA_KINDS, Peer
from salon.core.room.room import CLOSE_KICKED, HOST_ENDED_MEETING, Room

_DISABLE_PERMISSION = {
    "audio": "disable_participant_audio",
    "video": "disable_participant_video",
    "screenshare": "disable_participant_screensharing",
}


def _host(room: Room, by: str | None, permission: str, what: str) -> Peer | None:
    if by is None:
        return None
    peer = room.actor(by)
    if not getattr(peer.permissions, permission):
        raise forbidden(what, permission)
    return peer


def _targets(room: Room, by: str | None, peer_ids: Iterable[str]) -> list[Peer]:
    """A host's targets (`Room.host_targets`: not salon's bots); the operator's (`by`
    None, the REST API) may be any joined peer."""
    return room.targets(peer_ids) if by is None else room.host_targets(peer_ids)


def _kinds(kinds: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(kinds))
    unknown = [k for k in chosen if k not in MEDIA_KINDS]
    if unknown or not chosen:
        raise invalid(f"'kinds' must list some of {', '.join(MEDIA_KINDS)}.")
    return chosen


def kick(room: Room, by: str | None, peer_ids: Iterable[str], now: datetime) -> Outcome:
    host = _host(room, by, "kick_participant", "remove participants")
    targets = _targets(room, by, peer_ids)
    out = Outcome(reply={"kicked": [t.peer_id for t in targets]})
    for target in targets:
        out.send("self.kicked", {"by_peer_id": host.peer_id if host else None},
                 {target.peer_id})
        out.close(target.peer_id, CLOSE_KICKED, "removed by a host")
        room.depart(target, now, "kicked", out)
    return out


def remove_participant(room: Room, participant_id: str, now: datetime) -> Outcome:
    """The operator deleted a participant: every peer of it goes, as if kicked.

    Waiting peers and peers within their resume window go too: the participant's tokens
    no longer verify, so nothing it holds may act in the room.
    """
    peers = [p for p in room.peers.values() if p.participant_id == participant_id]
    out = Outcome(reply={"kicked": [p.peer_id for p in peers]})
    for peer in peers:
        out.send("self.kicked", {"by_peer_id": None}, {peer.peer_id})
        out.close(peer.peer_id, CLOSE_KICKED, "participant removed")
        room.depart(peer, now, "kicked", out)
    return out


def kick_all(room: Room, by: str | None, now: datetime) -> Outcome:
    host = _host(room, by, "kick_participant", "end the meeting for everyone")
    return room.end(now, HOST_ENDED_MEETING, host)


def disable_media(room: Room, by: str | None, peer_ids: Iterable[str],
                  kinds: Iterable[str], *, lock: bool = False) -> Outcome:
    """Turn peers' media off. `lock` also keeps them from turning it back on."""
    chosen = _kinds(kinds)
    for kind in chosen:
        _host(room, by, _DISABLE_PERMISSION[kind], f"turn off others' {kind}")
    targets = _targets(room, by, peer_ids)
    out = Outcome(reply={"disabled": [t.peer_id for t in targets], "kinds": chosen})
    for target in targets:
        _switch_off(room, target, chosen, by, lock, out)
    return out


def _switch_off(room: Room, target: Peer, kinds: list[str], by: str | None, lock: bool,
                out: Outcome) -> None:
    for kind in kinds:
        target.media[kind] = False
        if lock:
            target.locked.add(kind)
    out.send("media.disabled", {"kinds": kinds, "locked": lock, "by_peer_id": by},
             {target.peer_id})
    room.announce_update(target, out)


def allow_media(room: Room, by: str | None, peer_ids: Iterable[str],
                kinds: Iterable[str]) -> Outcome:
    """Lift locks left by a host or by mute-all without unmute."""
    chosen = _kinds(kinds)
    for kind in chosen:
        _host(room, by, _DISABLE_PERMISSION[kind], f"allow others' {kind}")
    targets = _targets(room, by, peer_ids)
    out = Outcome(reply={"allowed": [t.peer_id for t in targets], "kinds": chosen})
    for target in targets:
        target.locked.difference_update(chosen)
        room.tell_self(target, out)
    return out


def mute_all(room: Room, by: str | None, allow_unmute: bool) -> Outcome:
    return _all_off(room, by, "audio", allow_unmute)


def disable_all_video(room: Room, by: str | None) -> Outcome:
    return _all_off(room, by, "video", True)


def _all_off(room: Room, by: str | None, kind: str, allow_back: bool) -> Outcome:
    _host(room, by, _DISABLE_PERMISSION[kind], f"turn off everyone's {kind}")
    targets = [p for p in room.joined if p.peer_id != by and not p.is_bot]
    out = Outcome(reply={"count": len(targets), "kinds": [kind]})
    for target in targets:
        _switch_off(room, target, [kind], by, not allow_back, out)
    return out


def update_permissions(room: Room, by: str | None, peer_ids: Iterable[str],
                       patch: dict[str, Any]) -> Outcome:
    """Change peers' effective permissions for this session (a deep-partial preset patch)."""
    _host(room, by, "can_change_participant_permissions", "change others' permissions")
    if not isinstance(patch, dict) or not patch:
        raise invalid("'patch' must be a non-empty object of permission fields.")
    if "hidden_participant" in patch:
        # Others learn of a peer when it joins; hiding or showing one live would leave
        # them with a ghost or a stranger. Visibility is the preset's, fixed at join.
        raise invalid("'hidden_participant' cannot change during a session: set it in the "
                      "participant's preset before the peer joins.")
    targets = _targets(room, by, peer_ids)
    updated: list[tuple[Peer, Permissions]] = []
    for target in targets:
        try:
            merged = Permissions.model_validate(deep_merge(target.permissions.wire(), patch))
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in error.errors()[:5])
            raise invalid(f"Invalid permissions patch: {problems}") from None
        updated.append((target, merged))
    out = Outcome(reply={"updated": [t.peer_id for t in targets]})
    for target, permissions in updated:
        target.permissions = permissions
        for kind in MEDIA_KINDS:
            target.media[kind] = target.media[kind] and target.may_publish(kind)
        out.send("permissions.updated", {"patch": patch, "by_peer_id": by}, {target.peer_id})
        room.announce_update(target, out)
    return out


def broadcast(room: Room, by: str | None, kind: str, payload: Any, *,
              participant_ids: list[str] | None = None,
              preset_names: list[str] | None = None, now: datetime) -> Outcome:
    """A custom message to everyone, or to peers of some participants or presets."""
    if by is not None:
        room.actor(by)
    if not isinstance(kind, str) or not kind or len(kind) > 100:
        raise invalid("'type' must be a string of 1 to 100 characters.")
    recipients = [p for p in room.joined if p.peer_id != by]
    if participant_ids is not None:
        wanted = set(participant_ids)
        recipients = [p for p in recipients
                      if p.participant_id in wanted or p.custom_participant_id in wanted]
    if preset_names is not None:
        recipients = [p for p in recipients if p.preset_name in set(preset_names)]
    out = Outcome(reply={"delivered_to": len(recipients)})
    out.send("broadcast", {"type": kind, "payload": payload, "from_peer_id": by,
                           "timestamp": isoformat(now)}, {p.peer_id for p in recipients})
    return out
