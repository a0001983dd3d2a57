"""Realtime commands of the media plane (docs/protocol.md "Media", docs/media-design.md §4).

The room decides, the backend negotiates: a publish is checked against the room's one
rule (`Peer.may_publish`), negotiated by the backend — which checks its last `enforce`
again, in case rights changed meanwhile — and then turns the kinds on in the room, so
the reply comes before `peer.updated` as everywhere else.
"""

import base64
from collections.abc import Awaitable
from typing import Annotated, Literal, TypeVar

from pydantic import Field, StrictBool

from salon.core.ratelimit import Limit
from salon.core.room import RoomError
from salon.core.room.errors import bots_only, forbidden
from salon.core.room.media import Choice, check_publish, mark_published, use_device
from salon.core.schema import Int, Number, Strict, text
from salon.live.media import MediaSync
from salon.media.backend import MediaBackend, MediaError
from salon.realtime.commands.base import AsyncCommand, Context, RoomCommand
from salon.realtime.messages.media import (
    Done,
    MediaStats,
    PublishAnswer,
    Receiving,
    VoiceBacklog,
)

SIGNAL_LIMIT = Limit("media.signal", 100, 1)
NEGOTIATE_LIMIT = Limit("media.negotiate", 10, 1)

Kind = Literal["audio", "video", "screenshare"]
Role = Literal["publish", "subscribe"]
Sdp = text(128 * 1024, min_length=1)
Mid = text(32, min_length=1, name=True)
Id = text(200, min_length=1, name=True)
T = TypeVar("T")


class Publish(Strict):
    sdp: Sdp
    tracks: Annotated[dict[Mid, Kind], Field(min_length=1, max_length=3)]


class Unpublish(Strict):
    kinds: Annotated[list[Kind], Field(min_length=1, max_length=3)]


class SubscribeAnswer(Strict):
    sdp: Sdp
    revision: Annotated[Int, Field(ge=1)]


class Candidate(Strict):
    candidate: text(2048)
    sdpMid: text(32) | None = None  # noqa: N815 - the browser's RTCIceCandidateInit names
    sdpMLineIndex: Annotated[Int, Field(ge=0, le=1024)] | None = None  # noqa: N815
    usernameFragment: text(256) | None = None  # noqa: N815


class Ice(Strict):
    pc: Role
    candidate: Candidate | None = None


class Subscribe(Strict):
    mode: Literal["auto", "manual"] = "auto"
    track_ids: Annotated[list[Id], Field(max_length=200)] = []
    #: Switches the auto-mode cap to the preset's `max_video_streams` of this device.
    device: Literal["desktop", "mobile"] | None = None


class Reset(Strict):
    pc: Role


class Stats(Strict):
    peer_id: text(64, min_length=1, name=True) | None = None


class Prefer(Strict):
    """The subscriber's own limits on what it receives (docs/media.md "Layers")."""

    data_saver: StrictBool | None = None
    #: Track id -> the CSS pixel height the track is rendered at (0: not shown).
    heights: Annotated[dict[Id, Annotated[Int, Field(ge=0, le=10_000)]],
                       Field(max_length=100)] | None = None


class Backlog(Strict):
    track_id: Id
    #: An RTP timestamp of the track as you receive it: the backlog is what came before.
    before: Annotated[Int, Field(ge=0, le=0xFFFFFFFF)]
    #: Only packets the server received at or after this (unix seconds).
    since: Annotated[Number, Field(ge=0)] | None = None


def _media(context: Context) -> tuple[MediaSync, MediaBackend]:
    """The media plane, for a joined peer (NOT_JOINED while waiting, checked first)."""
    peer = context.host.room.actor(context.peer_id)
    sync = context.host.media
    if sync is None:
        raise RoomError("CONFLICT", "Media is disabled on this server.")
    if peer.peer_id not in sync.rights:
        raise RoomError("CONFLICT", "Media is not open for this peer yet.")
    return sync, sync.backend


async def _backend(call: Awaitable[T]) -> T:
    try:
        return await call
    except MediaError as error:
        raise RoomError(error.code, error.message) from error


async def publish(context: Context, params: Publish) -> RoomCommand:
    room, peer_id = context.host.room, context.peer_id
    kinds = list(params.tracks.values())
    check_publish(room, peer_id, kinds)  # joined and allowed before the media plane
    sync, backend = _media(context)
    answer = await _backend(backend.publish(peer_id, params.sdp, params.tracks))
    reply = PublishAnswer(sdp=answer.sdp,
                          tracks=[{**t.wire(), "mid": t.mid} for t in answer.tracks])

    def turn_on():
        outcome = mark_published(room, peer_id, kinds, True)
        outcome.reply = reply
        return outcome

    return turn_on


async def unpublish(context: Context, params: Unpublish) -> RoomCommand:
    _, backend = _media(context)
    room, peer_id = context.host.room, context.peer_id
    await _backend(backend.unpublish(peer_id, params.kinds))

    def turn_off():
        outcome = mark_published(room, peer_id, params.kinds, False)
        outcome.reply = {"kinds": params.kinds}
        return outcome

    return turn_off


async def subscribe_answer(context: Context, params: SubscribeAnswer) -> Done:
    _, backend = _media(context)
    await _backend(backend.subscribe_answer(context.peer_id, params.sdp, params.revision))
    return Done()


async def ice(context: Context, params: Ice) -> Done:
    _, backend = _media(context)
    candidate = params.candidate.model_dump() if params.candidate is not None else None
    await _backend(backend.add_ice_candidate(context.peer_id, params.pc, candidate))
    return Done()


async def subscribe(context: Context, params: Subscribe) -> Receiving:
    sync, _ = _media(context)
    if params.device is not None:
        use_device(context.host.room, context.peer_id, params.device)
    choice = Choice(params.mode, frozenset(params.track_ids))
    receiving = sync.choose(context.peer_id, choice)
    return Receiving(mode=params.mode, track_ids=sorted(receiving))


async def reset(context: Context, params: Reset) -> Done:
    _, backend = _media(context)
    await _backend(backend.reset(context.peer_id, params.pc))
    return Done()


async def prefer(context: Context, params: Prefer) -> Done:
    _, backend = _media(context)
    backend.prefer(context.peer_id, params.data_saver, params.heights)
    return Done()


async def stats(context: Context, params: Stats) -> MediaStats:
    room = context.host.room
    target = params.peer_id or context.peer_id
    if target != context.peer_id:
        if not room.actor(context.peer_id).permissions.kick_participant:
            raise forbidden("see another peer's media statistics", "kick_participant")
        room.host_targets([target])  # NOT_FOUND for unknown peers and salon's bots
    sync, backend = _media(context)
    return {"peer_id": target, **backend.stats(target),
            "available": sync.visible_to(target)}


async def backlog(context: Context, params: Backlog) -> VoiceBacklog:
    """A voice's last seconds before what reached you: for salon's transcriber, which
    joins after the session starts (salon.media.embedded.backlog)."""
    if not context.host.room.actor(context.peer_id).is_bot:
        raise bots_only("read a voice's backlog")
    _, backend = _media(context)
    try:
        packets = backend.backlog(context.peer_id, params.track_id, params.before,
                                  params.since)
    except MediaError as error:
        raise RoomError(error.code, error.message) from error
    return {"track_id": params.track_id,
            "packets": [{"at": round(at, 3), "timestamp": timestamp,
                         "data": base64.b64encode(payload).decode()}
                        for at, timestamp, payload in packets]}


COMMANDS = {
    "media.publish": AsyncCommand(Publish, publish, NEGOTIATE_LIMIT),
    "media.unpublish": AsyncCommand(Unpublish, unpublish, NEGOTIATE_LIMIT),
    "media.subscribe_answer": AsyncCommand(SubscribeAnswer, subscribe_answer, SIGNAL_LIMIT),
    "media.ice": AsyncCommand(Ice, ice, SIGNAL_LIMIT),
    "media.subscribe": AsyncCommand(Subscribe, subscribe, NEGOTIATE_LIMIT),
    "media.reset": AsyncCommand(Reset, reset, NEGOTIATE_LIMIT),
    "media.stats": AsyncCommand(Stats, stats, Limit("media.stats", 2, 1, burst=5)),
    "media.prefer": AsyncCommand(Prefer, prefer, Limit("media.prefer", 5, 1, burst=10)),
    "media.backlog": AsyncCommand(Backlog, backlog, Limit("media.backlog", 20, 1)),
}
