"""P1–P6: the participants of a meeting and their tokens."""

from fastapi import APIRouter, Request
from starlette.datastructures import State

from salon.api import wire
from salon.api.deps import CurrentApp, Db, NoBody, Paged, Signer
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import PagedSuccess, Success, errors
from salon.api.schemas.resources import DeletedParticipant, Participant, ParticipantToken
from salon.core.participants import NewParticipant, ParticipantEdit
from salon.live import operator
from salon.services import participants
from salon.services.grants import AppRef

router = APIRouter(prefix="/{app_id}/meetings/{meeting_id}/participants", tags=["participants"])


@router.get("", summary="List participants (tokens are never listed)",
            response_model=PagedSuccess[list[Participant]])
async def list_participants(meeting_id: str, app: CurrentApp, db: Db, page: Paged) -> Envelope:
    rows, total = await participants.list_page(db, app.id, meeting_id, page)
    return ok([wire.participant(p, preset.name) for p, preset in rows],
              paging=page.paging(total, len(rows)))


@router.post("", summary="Add a participant; returns its token", status_code=201,
             response_model=Success[Participant], responses=errors(409))
async def add_participant(
    meeting_id: str, body: NewParticipant, app: CurrentApp, request: Request
) -> Envelope:
    # Declared for the OpenAPI document; `api/lean.py` serves it, in front of this.
    return await respond_added(request.app.state, app, meeting_id, body)


async def respond_added(state: State, app: AppRef, meeting_id: str,
                        body: NewParticipant) -> Envelope:
    """The hottest route's work: no ORM session, no `Signer` dependency."""
    added = await participants.add(state.database, app.id, meeting_id, body)
    return ok(wire.participant(added, added.preset_name, state.signer.mint(added)),
              status_code=201)


@router.get("/{participant_id}", summary="Get a participant", response_model=Success[Participant])
async def get_participant(meeting_id: str, participant_id: str, app: CurrentApp, db: Db) -> Envelope:
    participant, preset = await participants.get(db, app.id, meeting_id, participant_id)
    return ok(wire.participant(participant, preset.name))


@router.patch("/{participant_id}", summary="Edit name, picture or preset",
              response_model=Success[Participant])
async def edit_participant(
    meeting_id: str,
    participant_id: str,
    body: ParticipantEdit,
    app: CurrentApp,
    db: Db,
    signer: Signer,
) -> Envelope:
    participant, preset = await participants.edit(db, app.id, meeting_id, participant_id, body)
    return ok(wire.participant(participant, preset.name, signer.mint(participant)))


@router.delete("/{participant_id}",
               summary="Delete a participant; its tokens stop working, its live peers are removed",
    response_model=Success[DeletedParticipant],
)
async def delete_participant(
    meeting_id: str, participant_id: str, request: Request, app: CurrentApp, db: Db,
    _: NoBody,
) -> Envelope:
    participant, _ = await participants.delete(db, app.id, meeting_id, participant_id)
    operator.remove_participant(request.app.state.rooms, meeting_id, participant_id)
    return ok(wire.deleted_participant(participant))


@router.post("/{participant_id}/token",
             summary="Issue a new token; earlier ones stop working (live peers stay)",
    response_model=Success[ParticipantToken],
)
async def refresh_token(
    meeting_id: str, participant_id: str, app: CurrentApp, db: Db, signer: Signer,
    _: NoBody,
) -> Envelope:
    participant = await participants.refresh_token(db, app.id, meeting_id, participant_id)
    return ok({"token": signer.mint(participant)})
