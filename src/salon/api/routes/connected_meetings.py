"""Connected meetings (breakout rooms) for operators: a salon addition.

RealtimeKit creates breakout rooms only from its client SDK; salon also lets the
operator do it over REST, under the parent meeting:
`/{app_id}/meetings/{meeting_id}/connected_meetings…`. Live effects (moves, broadcast,
close-all, timer) go through `salon.live.connected`, acting as the operator (every
right, `by_peer_id: null`).

No database session stays open while moves are awaited: a moved peer's connection needs
one to take its seat in the target meeting, and on SQLite there is a single connection.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request
from pydantic import ConfigDict, Field, model_validator

from salon.api.deps import CurrentApp, NoBody
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import Success, errors
from salon.api.schemas.live import (
    Assignments,
    Broadcast,
    ConnectedMeetings,
    CreatedRooms,
    Moved,
    RoomDeleted,
    RoomsClosed,
    RoomTitle,
    TimerCancelled,
    TimerSet,
)
from salon.core.connected import Assign, Create, Timer, Title, assignment_plan
from salon.core.errors import Conflict, InvalidRequest, NotFound
from salon.core.room import RoomError
from salon.core.schema import Flag, JsonValue, Strict, one_of_lists, text
from salon.live.connected import FamilyState, wait
from salon.services import connected_meetings, presets

router = APIRouter(prefix="/{app_id}/meetings/{meeting_id}/connected_meetings",
                   tags=["connected meetings"])

Ids = Annotated[list[text(255, min_length=1, name=True)], Field(max_length=1000)]
#: A connected meeting's id, as the path names it.
ChildId = Annotated[UUID, Path(alias="child_id")]


class RenameBody(Strict):
    title: Title


class MoveBody(Strict):
    model_config = ConfigDict(json_schema_extra=one_of_lists("peer_ids", "participant_ids"))

    to_meeting_id: text(64, min_length=1, name=True)
    peer_ids: Ids = []
    #: Participant ids or custom participant ids: all their joined peers move.
    participant_ids: Ids = []
    preset_name: text(100, min_length=1, name=True) | None = None

    @model_validator(mode="after")
    def _someone(self) -> "MoveBody":
        if not self.peer_ids and not self.participant_ids:
            raise ValueError("name peers in 'peer_ids' or 'participant_ids'")
        return self


class BroadcastBody(Strict):
    message: text(4000, min_length=1)
    payload: JsonValue = None


class CloseAllBody(Strict):
    delete: Flag = False


def _http(error: RoomError) -> Exception:
    kind = {"NOT_FOUND": NotFound, "CONFLICT": Conflict}.get(error.code, InvalidRequest)
    return kind(error.message)


async def _family(request: Request, app_id: str, meeting_id: str) -> FamilyState:
    async with request.app.state.database.session() as db:
        found = await connected_meetings.parent_of(db, app_id, meeting_id)
    return request.app.state.rooms.connected.learn(found)


def _view(family: FamilyState, request: Request) -> dict[str, Any]:
    return request.app.state.rooms.connected.state(family)


@router.get("", summary="The connected meetings of a meeting, with who is in each",
            response_model=Success[ConnectedMeetings], responses=errors(409))
async def list_connected(meeting_id: str, request: Request, app: CurrentApp) -> Envelope:
    return ok(_view(await _family(request, app.id, meeting_id), request))


@router.post("", status_code=201, summary="Create connected meetings (breakout rooms)",
             response_model=Success[CreatedRooms], responses=errors(409))
async def create_connected(meeting_id: str, body: Create, request: Request,
                           app: CurrentApp) -> Envelope:
    async with request.app.state.database.session() as db:
        rows = await connected_meetings.create(db, app.id, meeting_id,
                                               [m.title for m in body.meetings])
    request.app.state.rooms.connected.notify(await _family(request, app.id, meeting_id))
    return ok({"meetings": [{"id": m.id, "title": m.title} for m in rows]}, status_code=201)


# Room ids are UUIDs (`{child_id:uuid}`), so `/assign`, `/timer`, `/move`… are never
# taken for a room's id, and a 405's `Allow` names only what each path serves.
@router.post("/assign", summary="Assign people to the rooms: round robin or by hand",
             response_model=Success[Assignments], responses=errors(409))
async def assign(meeting_id: str, body: Assign, request: Request, app: CurrentApp) -> Envelope:
    family = await _family(request, app.id, meeting_id)
    parent = request.app.state.rooms.get(family.parent_id)
    try:
        plan = assignment_plan(body, list(family.children), parent.room if parent else None,
                               None)
        moving, tasks = request.app.state.rooms.connected.plan_moves(family, None, plan)
    except RoomError as error:
        raise _http(error) from None
    await wait(tasks)
    return ok({"assignments": moving})


@router.put("/timer", summary="Close every room after a while, with a warning first",
            response_model=Success[TimerSet | TimerCancelled], responses=errors(409))
async def set_timer(meeting_id: str, body: Timer, request: Request,
                    app: CurrentApp) -> Envelope:
    family = await _family(request, app.id, meeting_id)
    connected = request.app.state.rooms.connected
    try:
        if body.close_in_secs is None:
            answer = connected.cancel_timer(family, None)
        else:
            answer = connected.set_timer(family, None, body.close_in_secs, body.warn_secs)
    except RoomError as error:
        raise _http(error) from None
    await connected.timer_kept(family)
    return ok(answer)


@router.delete("/timer", summary="Cancel the closing timer", response_model=Success[TimerCancelled],
               responses=errors(409))
async def cancel_timer(meeting_id: str, request: Request, app: CurrentApp,
                       _: NoBody) -> Envelope:
    family = await _family(request, app.id, meeting_id)
    connected = request.app.state.rooms.connected
    answer = connected.cancel_timer(family, None)
    await connected.timer_kept(family)
    return ok(answer)


@router.patch("/{child_id:uuid}", summary="Rename a connected meeting",
              response_model=Success[RoomTitle], responses=errors(409))
async def rename_connected(meeting_id: str, room: ChildId, body: RenameBody,
                           request: Request, app: CurrentApp) -> Envelope:
    async with request.app.state.database.session() as db:
        rows = await connected_meetings.rename(db, app.id, meeting_id, {str(room): body.title})
    request.app.state.rooms.connected.notify(await _family(request, app.id, meeting_id))
    return ok({"id": rows[0].id, "title": rows[0].title})


@router.delete("/{child_id:uuid}",
               summary="Delete a connected meeting; its people go to the parent",
               response_model=Success[RoomDeleted], responses=errors(409))
async def delete_connected(meeting_id: str, room: ChildId, request: Request,
                           app: CurrentApp, _: NoBody) -> Envelope:
    child_id = str(room)
    family = await _family(request, app.id, meeting_id)
    if child_id not in family.children:
        raise NotFound(f"Meeting {meeting_id} has no connected meeting {child_id}.")
    moving, tasks = request.app.state.rooms.connected.close_all(family, None, [child_id])
    await wait(tasks)
    async with request.app.state.database.session() as db:
        await connected_meetings.delete(db, app.id, meeting_id, [child_id])
    request.app.state.rooms.connected.notify(await _family(request, app.id, meeting_id))
    return ok({"id": child_id, "moved": moving})


@router.post("/move", summary="Move participants between the meeting and its rooms",
             response_model=Success[Moved], responses=errors(409))
async def move(meeting_id: str, body: MoveBody, request: Request, app: CurrentApp) -> Envelope:
    family = await _family(request, app.id, meeting_id)
    if body.preset_name is not None:
        async with request.app.state.database.session() as db:
            await presets.by_name(db, app.id, body.preset_name)
    try:
        moving, tasks = request.app.state.rooms.connected.move(
            family, None, body.to_meeting_id, peer_ids=body.peer_ids,
            participant_ids=body.participant_ids, preset_name=body.preset_name)
    except RoomError as error:
        raise _http(error) from None
    await wait(tasks)
    return ok({"to_meeting_id": body.to_meeting_id, "moved": moving})


@router.post("/broadcast", summary="Send a message to everyone in every room",
             response_model=Success[Broadcast], responses=errors(409))
async def broadcast(meeting_id: str, body: BroadcastBody, request: Request,
                    app: CurrentApp) -> Envelope:
    family = await _family(request, app.id, meeting_id)
    sent = request.app.state.rooms.connected.broadcast(family, None, None, body.message,
                                                       body.payload)
    return ok({"delivered": sent})


@router.post("/close-all", summary="Everyone back to the parent meeting (and delete the rooms)",
             response_model=Success[RoomsClosed], responses=errors(409))
async def close_all(meeting_id: str, request: Request, app: CurrentApp,
                    body: CloseAllBody | None = None) -> Envelope:
    family = await _family(request, app.id, meeting_id)
    moving, tasks = request.app.state.rooms.connected.close_all(family, None)
    await wait(tasks)
    data: dict[str, Any] = {"moved": moving}
    if body is not None and body.delete and family.children:
        async with request.app.state.database.session() as db:
            data["deleted"] = await connected_meetings.delete(db, app.id, meeting_id,
                                                              list(family.children))
        request.app.state.rooms.connected.notify(await _family(request, app.id, meeting_id))
    return ok(data)

