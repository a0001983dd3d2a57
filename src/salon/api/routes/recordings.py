"""R1–R6: recordings (`client.realtime_kit.recordings.*`)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.convertors import Convertor, register_url_convertor

from salon.api import wire
from salon.api.deps import CurrentApp, Db, Paged
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import PagedSuccess, Success, errors
from salon.api.schemas.recordings import (
    ListedRecording,
    Recording,
    RecordingBase,
    Status,
    TrackRecordingStarted,
)
from salon.core.recordings import RecordingAction, StartRecording, StartTrackRecording
from salon.core.schema import UtcDatetime
from salon.services import recordings
from salon.store.models import Recording as RecordingRow

router = APIRouter(prefix="/{app_id}/recordings", tags=["recordings"])


class RecordingIdConvertor(Convertor[str]):
    """A recording id: any path segment but `track`, so `/recordings/track` is only the
    track-recording route (and its 405 names only POST)."""

    regex = "(?!track$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("recording_id", RecordingIdConvertor())

#: The same rule, for the OpenAPI document (the convertor has matched before this runs).
RecordingId = Annotated[str, Path(
    json_schema_extra={"pattern": f"^{RecordingIdConvertor.regex}$"})]


def _live_session(request: Request, meeting_id: str) -> str | None:
    host = request.app.state.rooms.get(meeting_id)
    return host.room.session_id if host is not None else None


def _changed(request: Request, row: RecordingRow) -> None:
    """Wake the scheduler (and the webhook dispatcher) and tell the meeting's peers."""
    request.app.state.recordings.changed(row)


@router.post("", summary="Start recording a meeting (composite)", status_code=201,
             response_model=Success[Recording], responses=errors(409))
async def start_recording(body: StartRecording, app: CurrentApp, db: Db,
                          request: Request) -> Envelope:
    row = await recordings.start(db, app.id, body,
                                 session_id=_live_session(request, body.meeting_id))
    _changed(request, row)
    return ok(wire.recording(row), status_code=201)


@router.post("/track", summary="Start a track recording (one audio file per participant)",
             status_code=201, response_model=Success[TrackRecordingStarted],
             responses=errors(409))
async def start_track_recording(body: StartTrackRecording, app: CurrentApp, db: Db,
                                request: Request) -> Envelope:
    row = await recordings.start_track(db, app.id, body,
                                       session_id=_live_session(request, body.meeting_id))
    _changed(request, row)
    return ok({"recording": wire.recording_base(row)}, status_code=201)


@router.get("", summary="List recordings", response_model=PagedSuccess[list[ListedRecording]])
async def list_recordings(
    app: CurrentApp, db: Db, page: Paged,
    meeting_id: str | None = None,
    expired: bool | None = None,
    search: str | None = None,
    sort_by: Annotated[Literal["invokedTime"], Query()] = "invokedTime",
    sort_order: Annotated[Literal["ASC", "DESC"], Query()] = "DESC",
    start_time: UtcDatetime | None = None,
    end_time: UtcDatetime | None = None,
    status: Annotated[list[Status] | None, Query()] = None,
) -> Envelope:
    rows, total = await recordings.list_page(
        db, app.id, page, meeting_id=meeting_id, expired=expired, search=search,
        sort_order=sort_order, start_time=start_time, end_time=end_time, status=status)
    return ok([wire.listed_recording(row, meeting) for row, meeting in rows],
              paging=page.paging(total, len(rows)))


@router.get("/active-recording/{meeting_id}",
            summary="The meeting's active recording (404 when there is none)",
            response_model=Success[RecordingBase])
async def active_recording(meeting_id: str, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.recording_base(await recordings.active(db, app.id, meeting_id)))


@router.get("/{recording_id:recording_id}", summary="Get a recording", response_model=Success[Recording])
async def get_recording(recording_id: RecordingId, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.recording(await recordings.get(db, app.id, recording_id)))


@router.put("/{recording_id:recording_id}", summary="Pause, resume or stop a recording",
            response_model=Success[Recording], responses=errors(409))
async def steer_recording(recording_id: RecordingId, body: RecordingAction, app: CurrentApp, db: Db,
                          request: Request) -> Envelope:
    row = await recordings.act(db, app.id, recording_id, body.action)
    _changed(request, row)
    return ok(wire.recording(row))
