"""M1–M5: meetings."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request

from salon.api import wire
from salon.api.deps import CurrentApp, Db, Paged
from salon.api.envelope import Envelope, ok
from salon.api.schemas.bodies import patch_body
from salon.api.schemas.envelope import PagedSuccess, Success
from salon.api.schemas.resources import Meeting
from salon.core.meetings import MeetingPatch, MeetingSettings
from salon.core.schema import UtcDatetime
from salon.services import meetings
from salon.transcription.languages import check_meeting_language

router = APIRouter(prefix="/{app_id}/meetings", tags=["meetings"])

SettingsBody = Annotated[MeetingSettings | None, Body()]


@router.get("", summary="List meetings", response_model=PagedSuccess[list[Meeting]])
async def list_meetings(
    app: CurrentApp,
    db: Db,
    page: Paged,
    search: str | None = None,
    start_time: UtcDatetime | None = None,
    end_time: UtcDatetime | None = None,
    status: Literal["ACTIVE", "INACTIVE"] | None = None,
) -> Envelope:
    rows, total = await meetings.list_page(
        db,
        app.id,
        page,
        search=search,
        start_time=start_time,
        end_time=end_time,
        status=status,
    )
    return ok([wire.meeting(row) for row in rows], paging=page.paging(total, len(rows)))


@router.post("", summary="Create a meeting", status_code=201, response_model=Success[Meeting])
async def create_meeting(app: CurrentApp, request: Request, body: SettingsBody = None) -> Envelope:
    settings = body or MeetingSettings()
    check_meeting_language(settings.ai_config, request.app.state.settings.transcription_model)
    meeting = await meetings.create(request.app.state.database, app.id, settings)
    return ok(wire.meeting(meeting), status_code=201)


@router.get("/{meeting_id}", summary="Get a meeting", response_model=Success[Meeting])
async def get_meeting(meeting_id: str, app: CurrentApp, request: Request,
                      name: str | None = None) -> Envelope:
    # No `Db` dependency: a plain read on the Database, without an ORM session.
    return ok(wire.meeting(await meetings.read(request.app.state.database, app.id, meeting_id)))


@router.patch(
    "/{meeting_id}",
    summary="Update a meeting (partial; nested configs merge)",
    openapi_extra=patch_body(MeetingPatch),
    response_model=Success[Meeting],
)
async def update_meeting(
    meeting_id: str, app: CurrentApp, db: Db, request: Request,
    body: Annotated[dict[str, Any], Body()]
) -> Envelope:
    check_meeting_language(body.get("ai_config") if isinstance(body, dict) else None,
                           request.app.state.settings.transcription_model)
    return ok(wire.meeting(await meetings.update(db, app.id, meeting_id, body)))


@router.put("/{meeting_id}", summary="Replace a meeting (omitted fields take defaults)",
            response_model=Success[Meeting])
async def replace_meeting(
    meeting_id: str, app: CurrentApp, db: Db, request: Request, body: SettingsBody = None
) -> Envelope:
    settings = body or MeetingSettings()
    check_meeting_language(settings.ai_config, request.app.state.settings.transcription_model)
    return ok(wire.meeting(await meetings.replace(db, app.id, meeting_id, settings)))
