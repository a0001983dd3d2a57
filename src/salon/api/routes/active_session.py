"""AS1–AS6: the live session of a meeting, and the operator's controls over it."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import ConfigDict, Field

from salon.api import wire
from salon.api.deps import CurrentApp, Db, NoBody
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import Success, errors
from salon.api.schemas.live import Kicked, KickedAll, Muted, MutedAll, PollCreated
from salon.api.schemas.sessions import Session
from salon.core.clock import isoformat
from salon.core.errors import NotFound
from salon.core.room.polls import MAX_OPTION_CHARS, MAX_OPTIONS, MAX_QUESTION_CHARS, MIN_OPTIONS
from salon.core.schema import Flag, Strict, one_of_lists, text
from salon.live import operator
from salon.services import meetings, participants, sessions

router = APIRouter(prefix="/{app_id}/meetings/{meeting_id}/active-session", tags=["sessions"])

Ids = Annotated[list[text(255, name=True)], Field(max_length=1000)]


class Selection(Strict):
    model_config = ConfigDict(json_schema_extra=one_of_lists("participant_ids",
                                                             "custom_participant_ids"))

    participant_ids: Ids = []
    custom_participant_ids: Ids = []


class MuteAll(Strict):
    allow_unmute: Flag


def _documented(**bounds: int) -> Any:
    """The room's own limits, for the document: the room checks them (with its own
    messages, after trimming), the looser bounds here only cap what is read."""
    return Field(json_schema_extra=bounds)


class CreatePoll(Strict):
    """AS6; the limits (question, 2–10 options, their lengths) are checked by the room."""

    question: Annotated[text(2000), _documented(minLength=1, maxLength=MAX_QUESTION_CHARS)]
    options: Annotated[
        list[Annotated[text(1000), _documented(minLength=1, maxLength=MAX_OPTION_CHARS)]],
        Field(max_length=100), _documented(minItems=MIN_OPTIONS, maxItems=MAX_OPTIONS)]
    anonymous: Flag = False
    hide_votes: Flag = False


async def _participants(db: Db, meeting_id: str, ids: list[str]) -> list[dict]:
    return [{"id": p.id, "name": p.name, "picture": p.picture,
             "custom_participant_id": p.custom_participant_id,
             "created_at": isoformat(p.created_at), "updated_at": isoformat(p.updated_at)}
            for p in await participants.in_meeting(db, meeting_id, ids)]


@router.get("", summary="The meeting's live session (404 when there is none)",
            response_model=Success[Session], responses=errors(503))
async def get_active_session(meeting_id: str, request: Request, app: CurrentApp) -> Envelope:
    # No database session is open while the room's records are awaited: on SQLite the
    # recorder needs the one pooled connection such a session would hold. (A meeting of
    # another app is refused before waiting, from the live room itself.)
    session_id = await operator.live_session_id(request.app.state.rooms, app.id, meeting_id)
    async with request.app.state.database.session() as db:
        if session_id is None:
            await meetings.get(db, app.id, meeting_id)  # 404 for a meeting not of this app
            raise NotFound(f"Meeting {meeting_id} has no active session.")
        return ok(wire.session(await sessions.get(db, app.id, session_id)))


async def _check_meeting(request: Request, app: CurrentApp, meeting_id: str) -> None:
    """404 for a meeting not of this app, on a session closed before the room is waited
    on (see `operator.settled`)."""
    async with request.app.state.database.session() as db:
        await meetings.get(db, app.id, meeting_id)


@router.post("/kick", summary="Remove participants from the live session",
             response_model=Success[Kicked], responses=errors(503))
async def kick(meeting_id: str, body: Selection, request: Request, app: CurrentApp) -> Envelope:
    await _check_meeting(request, app, meeting_id)
    kicked = await operator.kick(request.app.state.rooms, meeting_id, body.participant_ids,
                                 body.custom_participant_ids)
    async with request.app.state.database.session() as db:
        kicked_participants = await _participants(db, meeting_id, kicked)
    return ok({"action": "kick", "participants": kicked_participants})


@router.post("/kick-all", summary="End the live session for everyone, now",
             response_model=Success[KickedAll], responses=errors(503))
async def kick_all(meeting_id: str, request: Request, app: CurrentApp,
                   _: NoBody) -> Envelope:
    await _check_meeting(request, app, meeting_id)
    count = await operator.kick_all(request.app.state.rooms, meeting_id)
    return ok({"action": "kick-all", "kicked_participants_count": count})


@router.post("/mute", summary="Mute participants", response_model=Success[Muted])
async def mute(meeting_id: str, body: Selection, request: Request, app: CurrentApp,
               db: Db) -> Envelope:
    await meetings.get(db, app.id, meeting_id)
    muted = operator.mute(request.app.state.rooms, meeting_id, body.participant_ids,
                          body.custom_participant_ids)
    return ok({"action": "mute", "participants": await _participants(db, meeting_id, muted)})


@router.post("/mute-all", summary="Mute everyone; allow_unmute=false keeps them muted",
             response_model=Success[MutedAll])
async def mute_all(meeting_id: str, body: MuteAll, request: Request, app: CurrentApp,
                   db: Db) -> Envelope:
    await meetings.get(db, app.id, meeting_id)
    count = operator.mute_all(request.app.state.rooms, meeting_id, body.allow_unmute)
    return ok({"action": "mute-all", "muted_participants_count": count})


@router.post("/poll", status_code=201, summary="Create a poll in the live session",
             response_model=Success[PollCreated], responses=errors(409))
async def create_poll(meeting_id: str, body: CreatePoll, request: Request, app: CurrentApp,
                      db: Db) -> Envelope:
    await meetings.get(db, app.id, meeting_id)
    poll = operator.create_poll(request.app.state.rooms, meeting_id, body.question,
                                body.options, anonymous=body.anonymous,
                                hide_votes=body.hide_votes, created_by=app.name)
    return ok({"action": "poll", "poll": poll}, status_code=201)
