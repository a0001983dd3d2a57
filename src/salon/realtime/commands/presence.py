"""Presence, waiting room, stage and host controls: parameters and room commands."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from salon.core.clock import utcnow
from salon.core.names import display_name
from salon.core.ratelimit import Limit
from salon.core.room import Outcome, audience, host, stage
from salon.core.schema import Flag, Int, Strict, text
from salon.realtime.commands.base import Command, NoParams

PeerId = text(64, min_length=1, name=True)
PeerIds = Annotated[list[PeerId], Field(min_length=1, max_length=1000)]
#: The same rule as `Room.rename` (trimmed, 1–255), plus no control characters.
DisplayName = Annotated[str, AfterValidator(display_name)]
Kinds = Annotated[list[Literal["audio", "video", "screenshare"]], Field(min_length=1)]

# Budgets per participant (docs/protocol.md "Budgets"): generous for keep-alives, tight
# for what every peer of the room hears about (media toggles, names, pins, host actions).
PING = Limit("ping", 10, 1, burst=20)
LEAVE = Limit("leave", 10, 1, burst=10)
STATE = Limit("state", 2, 1, burst=5)
RENAME = Limit("self.rename", 1, 1, burst=3)
SELF_MEDIA = Limit("self.media", 2, 1, burst=10)
PIN = Limit("peer.pin", 2, 1, burst=5)
WAITLIST_LIST = Limit("waitlist.list", 2, 1, burst=5)
WAITLIST = Limit("waitlist", 5, 1, burst=10)
STAGE_SELF = Limit("stage.self", 2, 1, burst=10)
STAGE_LIST = Limit("stage.list_requests", 2, 1, burst=5)
STAGE_MANAGE = Limit("stage.manage", 5, 1, burst=10)
HOST = Limit("host", 2, 1, burst=10)
BROADCAST = Limit("broadcast", 5, 1)
PEERS_LIST = Limit("peers.list", 5, 1, burst=10)


class Rename(Strict):
    name: DisplayName


class Media(Strict):
    audio: Flag | None = None
    video: Flag | None = None
    screenshare: Flag | None = None

    def changes(self) -> dict[str, bool]:
        return self.model_dump(exclude_none=True)

    @model_validator(mode="after")
    def _something(self) -> "Media":
        if not self.changes():
            raise ValueError("set at least one of audio, video, screenshare")
        return self


class Pin(Strict):
    peer_id: PeerId | None


class Targets(Strict):
    peer_ids: PeerIds


class WaitlistTargets(Strict):
    peer_ids: PeerIds | None = None
    all: Flag = False

    @model_validator(mode="after")
    def _one_of(self) -> "WaitlistTargets":
        if (self.peer_ids is None) == (not self.all):
            raise ValueError("give either 'peer_ids' or 'all': true")
        return self


class MediaTargets(Strict):
    peer_ids: PeerIds
    kinds: Kinds


class MuteAll(Strict):
    allow_unmute: Flag = True


class PermissionPatch(Strict):
    peer_ids: PeerIds
    patch: dict[str, Any]


class PeersList(Strict):
    """A page of the participant list (core/room/audience.py)."""

    cursor: text(32, min_length=1, name=True) | None = None
    limit: Annotated[Int, Field(ge=1, le=audience.MAX_PAGE)] = audience.DEFAULT_PAGE
    search: text(audience.MAX_SEARCH, name=True) | None = None


class Broadcast(Strict):
    type: text(100, min_length=1, name=True)
    payload: Any = None
    participant_ids: list[text(255, name=True)] | None = None
    preset_names: list[text(100, name=True)] | None = None


def _waitlist_ids(p: WaitlistTargets) -> list[str] | None:
    return None if p.all else p.peer_ids


def _pong() -> Outcome:
    return Outcome(reply={"pong": True})


COMMANDS: dict[str, Command] = {
    "ping": Command(NoParams, lambda h, me, p: _pong, PING),
    "leave": Command(NoParams, lambda h, me, p: lambda: h.room.leave(me, utcnow()), LEAVE),
    "state": Command(NoParams, lambda h, me, p: lambda: h.room.state(me), STATE),
    "self.rename": Command(Rename, lambda h, me, p: lambda: h.room.rename(me, p.name), RENAME),
    "self.media": Command(Media, lambda h, me, p: lambda: h.room.set_media(
        me, p.changes()), SELF_MEDIA),
    "peer.pin": Command(Pin, lambda h, me, p: lambda: h.room.pin(me, p.peer_id), PIN),
    "waitlist.list": Command(NoParams, lambda h, me, p: lambda: h.room.list_waiting(me),
                             WAITLIST_LIST),
    "waitlist.admit": Command(WaitlistTargets, lambda h, me, p: lambda: h.room.admit_waiting(
        me, _waitlist_ids(p), utcnow()), WAITLIST),
    "waitlist.reject": Command(WaitlistTargets, lambda h, me, p: lambda: h.room.reject_waiting(
        me, _waitlist_ids(p), utcnow()), WAITLIST),
    "stage.request": Command(NoParams, lambda h, me, p: lambda: stage.request(h.room, me),
                             STAGE_SELF),
    "stage.cancel_request": Command(
        NoParams, lambda h, me, p: lambda: stage.cancel_request(h.room, me), STAGE_SELF),
    "stage.list_requests": Command(
        NoParams, lambda h, me, p: lambda: stage.list_requests(h.room, me), STAGE_LIST),
    "stage.grant": Command(Targets, lambda h, me, p: lambda: stage.grant(
        h.room, me, p.peer_ids), STAGE_MANAGE),
    "stage.deny": Command(Targets, lambda h, me, p: lambda: stage.deny(
        h.room, me, p.peer_ids), STAGE_MANAGE),
    "stage.join": Command(NoParams, lambda h, me, p: lambda: stage.join(h.room, me),
                          STAGE_SELF),
    "stage.leave": Command(NoParams, lambda h, me, p: lambda: stage.leave(h.room, me),
                           STAGE_SELF),
    "stage.kick": Command(Targets, lambda h, me, p: lambda: stage.kick(
        h.room, me, p.peer_ids), STAGE_MANAGE),
    "host.kick": Command(Targets, lambda h, me, p: lambda: host.kick(
        h.room, me, p.peer_ids, utcnow()), HOST),
    "host.kick_all": Command(NoParams, lambda h, me, p: lambda: host.kick_all(
        h.room, me, utcnow()), HOST),
    "host.disable_media": Command(MediaTargets, lambda h, me, p: lambda: host.disable_media(
        h.room, me, p.peer_ids, p.kinds), HOST),
    "host.allow_media": Command(MediaTargets, lambda h, me, p: lambda: host.allow_media(
        h.room, me, p.peer_ids, p.kinds), HOST),
    "host.mute_all": Command(MuteAll, lambda h, me, p: lambda: host.mute_all(
        h.room, me, p.allow_unmute), HOST),
    "host.disable_all_video": Command(
        NoParams, lambda h, me, p: lambda: host.disable_all_video(h.room, me), HOST),
    "host.update_permissions": Command(
        PermissionPatch, lambda h, me, p: lambda: host.update_permissions(
            h.room, me, p.peer_ids, p.patch), HOST),
    "peers.list": Command(PeersList, lambda h, me, p: lambda: audience.list_peers(
        h.room, me, cursor=p.cursor, limit=p.limit, search=p.search), PEERS_LIST),
    "broadcast": Command(Broadcast, lambda h, me, p: lambda: host.broadcast(
        h.room, me, p.type, p.payload, participant_ids=p.participant_ids,
        preset_names=p.preset_names, now=utcnow()), BROADCAST),
}
