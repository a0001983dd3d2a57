"""Connected meetings (breakout rooms) over the realtime protocol (docs/protocol.md).

Every command reads the family from the database first (the source of truth, and how
the live copy in `salon.live.connected` is kept fresh), then checks the caller's rights
in `salon.core.room.connected`. A refused request changes nothing. Moves reply at once
with who is on the way; each moved peer then hears `meeting.changing` and
`meeting.changed`, and everyone who may see the lists gets `connected_meetings.updated`.
"""

from typing import Annotated, Any

from pydantic import Field, model_validator

from salon.core.connected import (
    Assign,
    Create,
    MeetingId,
    PeerId,
    Timer,
    Title,
    assignment_plan,
)
from salon.core.errors import SalonError
from salon.core.ratelimit import Limit
from salon.core.room import RoomError
from salon.core.room.connected import MAX_CHILDREN, check_alter, check_view
from salon.core.schema import Flag, Strict, text
from salon.live.connected import FamilyState
from salon.realtime.commands.base import AsyncCommand, Context, NoParams
from salon.realtime.messages.connected import (
    Assignments,
    ClosedAll,
    DeliveredToRooms,
    Dropped,
    Moving,
    RoomId,
    Rooms,
    Titled,
)
from salon.services import connected_meetings, presets

PresetName = text(100, min_length=1, name=True)
_CODES = {400: "INVALID", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT"}


class Renamed(Strict):
    id: MeetingId
    title: Title


class Update(Strict):
    meetings: Annotated[list[Renamed], Field(min_length=1, max_length=MAX_CHILDREN)]


class Delete(Strict):
    meeting_ids: Annotated[list[MeetingId], Field(min_length=1, max_length=MAX_CHILDREN)]


class Move(Strict):
    to_meeting_id: MeetingId
    peer_ids: Annotated[list[PeerId], Field(max_length=1000)] = []
    #: Participant ids or custom participant ids: every joined peer of theirs moves.
    participant_ids: Annotated[list[text(255, min_length=1, name=True)],
                               Field(max_length=1000)] = []
    preset_name: PresetName | None = None

    @model_validator(mode="after")
    def _someone(self) -> "Move":
        if not self.peer_ids and not self.participant_ids:
            raise ValueError("name peers in 'peer_ids' or 'participant_ids'")
        return self


class Switch(Strict):
    to_meeting_id: MeetingId


class RoomsBroadcast(Strict):
    message: text(4000, min_length=1)
    payload: Any = None


class CloseAll(Strict):
    #: Also delete the child rooms (they become inactive meetings).
    delete: Flag = False


async def _family(ctx: Context) -> FamilyState:
    try:
        async with ctx.state.database.session() as db:
            found = await connected_meetings.family(db, ctx.host.app_id, ctx.host.meeting_id)
    except SalonError as error:
        raise RoomError(_CODES.get(error.status_code, "CONFLICT"), error.message) from None
    return ctx.state.rooms.connected.learn(found)


def _actor(ctx: Context):
    return ctx.host.room.actor(ctx.peer_id)


async def _list(ctx: Context, p: NoParams) -> dict[str, Any]:
    check_view(_actor(ctx))
    family = await _family(ctx)
    return ctx.state.rooms.connected.state(family)


async def _changed(ctx: Context, change) -> Any:
    """Run one database change as a room error on failure, then refresh the family."""
    check_alter(_actor(ctx))
    family = await _family(ctx)
    try:
        async with ctx.state.database.session() as db:
            result = await change(db, family)
    except SalonError as error:
        raise RoomError(_CODES.get(error.status_code, "CONFLICT"), error.message) from None
    family = await _family(ctx)
    ctx.state.rooms.connected.notify(family)
    return result


async def _create(ctx: Context, p: Create) -> Rooms:
    rows = await _changed(ctx, lambda db, f: connected_meetings.create(
        db, ctx.host.app_id, f.parent_id, [m.title for m in p.meetings]))
    return Rooms(meetings=[Titled(id=m.id, title=m.title) for m in rows])


async def _update(ctx: Context, p: Update) -> Rooms:
    rows = await _changed(ctx, lambda db, f: connected_meetings.rename(
        db, ctx.host.app_id, f.parent_id, {m.id: m.title for m in p.meetings}))
    return Rooms(meetings=[Titled(id=m.id, title=m.title) for m in rows])


async def _delete(ctx: Context, p: Delete) -> Dropped:
    connected = ctx.state.rooms.connected
    check_alter(_actor(ctx))
    family = await _family(ctx)
    unknown = [i for i in p.meeting_ids if i not in family.children]
    if unknown:
        raise RoomError("NOT_FOUND", f"No connected meeting {unknown[0]} here.")
    moving, _ = connected.close_all(family, _actor(ctx), children=list(p.meeting_ids))
    ids = await _changed(ctx, lambda db, f: connected_meetings.delete(
        db, ctx.host.app_id, f.parent_id, list(p.meeting_ids)))
    return Dropped(meetings=[RoomId(id=i) for i in ids], moving=moving)


async def _check_preset(ctx: Context, name: str | None) -> None:
    if name is not None:
        async with ctx.state.database.session() as db:
            try:
                await presets.by_name(db, ctx.host.app_id, name)
            except SalonError as error:
                raise RoomError("INVALID", error.message) from None


async def _move(ctx: Context, p: Move) -> Moving:
    check_alter(_actor(ctx))
    family = await _family(ctx)
    await _check_preset(ctx, p.preset_name)
    moving, _ = ctx.state.rooms.connected.move(
        family, _actor(ctx), p.to_meeting_id, peer_ids=p.peer_ids,
        participant_ids=p.participant_ids, preset_name=p.preset_name)
    return Moving(to_meeting_id=p.to_meeting_id, moving=moving)


async def _switch(ctx: Context, p: Switch) -> Moving:
    actor = _actor(ctx)  # NOT_JOINED before anything is looked up
    family = await _family(ctx)
    ctx.state.rooms.connected.switch(family, ctx.host, actor, p.to_meeting_id)
    return Moving(to_meeting_id=p.to_meeting_id, moving=[ctx.peer_id])


async def _assign(ctx: Context, p: Assign) -> Assignments:
    actor = _actor(ctx)
    check_alter(actor)
    family = await _family(ctx)
    connected = ctx.state.rooms.connected
    parent = ctx.state.rooms.get(family.parent_id)
    plan = assignment_plan(p, list(family.children), parent.room if parent else None,
                           ctx.peer_id)
    moving, _ = connected.plan_moves(family, actor, plan)
    return Assignments(assignments=moving)


async def _broadcast(ctx: Context, p: RoomsBroadcast) -> DeliveredToRooms:
    actor = _actor(ctx)
    check_alter(actor)
    family = await _family(ctx)
    sent = ctx.state.rooms.connected.broadcast(family, actor, ctx.host.meeting_id, p.message,
                                               p.payload)
    return DeliveredToRooms(delivered=sent)


async def _close_all(ctx: Context, p: CloseAll) -> ClosedAll:
    actor = _actor(ctx)
    check_alter(actor)
    family = await _family(ctx)
    moving, _ = ctx.state.rooms.connected.close_all(family, actor)
    reply = ClosedAll(moving=moving)
    if p.delete and family.children:
        ids = await _changed(ctx, lambda db, f: connected_meetings.delete(
            db, ctx.host.app_id, f.parent_id, list(family.children)))
        reply["deleted"] = ids
    return reply


async def _timer(ctx: Context, p: Timer) -> dict[str, Any]:
    actor = _actor(ctx)
    check_alter(actor)
    family = await _family(ctx)
    connected = ctx.state.rooms.connected
    if p.close_in_secs is None:
        answer = connected.cancel_timer(family, actor)
    else:
        answer = connected.set_timer(family, actor, p.close_in_secs, p.warn_secs)
    await connected.timer_kept(family)
    return answer


_WRITE = Limit("connected", 30, 10)
COMMANDS: dict[str, AsyncCommand] = {
    "connected.list": AsyncCommand(NoParams, _list, Limit("connected.list", 60, 60)),
    "connected.create": AsyncCommand(Create, _create, _WRITE),
    "connected.update": AsyncCommand(Update, _update, _WRITE),
    "connected.delete": AsyncCommand(Delete, _delete, _WRITE),
    "connected.move": AsyncCommand(Move, _move, _WRITE),
    "connected.switch": AsyncCommand(Switch, _switch, _WRITE),
    "connected.assign": AsyncCommand(Assign, _assign, _WRITE),
    "connected.broadcast": AsyncCommand(RoomsBroadcast, _broadcast, Limit("broadcast", 5, 1)),
    "connected.close_all": AsyncCommand(CloseAll, _close_all, _WRITE),
    "connected.timer": AsyncCommand(Timer, _timer, _WRITE),
}
