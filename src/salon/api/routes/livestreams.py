"""L1–L10: livestreams (`client.realtime_kit.livestreams.*`) and the independent
livestream (POST /livestreams, from RealtimeKit's docs). docs/livestreaming.md."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request

from salon.api.deps import CurrentApp, Db, NoBody, Paged
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import Success, errors
from salon.api.schemas.livestreams import (
    Analytics,
    DayAnalytics,
    IndependentLivestream,
    Livestream,
    LivestreamList,
    LivestreamStarted,
    LivestreamWithSession,
    LivestreamWithSessions,
    SessionIntegers,
    Status,
    Stopped,
)
from salon.core.livestreams import CreateLivestream, StartLivestream
from salon.core.schema import UtcDatetime
from salon.livestream import wire
from salon.services import livestreams
from salon.services.livestreams import Urls

router = APIRouter(prefix="/{app_id}", tags=["livestreams"])

#: Unix seconds, as RealtimeKit's livestream analytics take them.
UnixSeconds = Annotated[int | None, Query(ge=0, le=253402300799)]


def _urls(request: Request) -> Urls:
    return request.app.state.livestreams.urls


def _live_session(request: Request, meeting_id: str) -> str | None:
    host = request.app.state.rooms.get(meeting_id)
    return host.room.session_id if host is not None else None


@router.post("/meetings/{meeting_id}/livestreams", status_code=201,
             summary="Start livestreaming a meeting (INVOKED; LIVE once encoding)",
             response_model=Success[LivestreamStarted], responses=errors(409))
async def start_livestream(meeting_id: str, app: CurrentApp, db: Db, request: Request,
                           body: Annotated[StartLivestream | None, Body()] = None
                           ) -> Envelope:
    livestream, session = await livestreams.start_meeting(
        db, app.id, meeting_id, body or StartLivestream(),
        session_id=_live_session(request, meeting_id))
    request.app.state.livestreams.changed(livestream, session)
    return ok(wire.started(livestream, _urls(request)), status_code=201)


@router.post("/meetings/{meeting_id}/active-livestream/stop",
             summary="Stop the meeting's livestream (404 when none runs)",
             response_model=Success[Stopped])
async def stop_livestream(meeting_id: str, app: CurrentApp, db: Db,
                          request: Request, _: NoBody) -> Envelope:
    session = await livestreams.stop_meeting(db, app.id, meeting_id, _urls(request))
    livestream = await livestreams.get(db, app.id, session.livestream_id)
    request.app.state.livestreams.changed(livestream, session)
    return ok({"message": f"Livestream {livestream.id} of meeting {meeting_id} is stopping."})


@router.get("/meetings/{meeting_id}/active-livestream",
            summary="The meeting's running livestream (404 when none runs)",
            response_model=Success[Livestream])
async def active_livestream(meeting_id: str, app: CurrentApp, db: Db,
                            request: Request) -> Envelope:
    row = await livestreams.active_of_meeting(db, app.id, meeting_id)
    return ok(wire.livestream(row, _urls(request)))


@router.post("/livestreams", status_code=201,
             summary="Create an independent livestream (an RTMP encoder publishes to it)",
             response_model=Success[IndependentLivestream])
async def create_livestream(app: CurrentApp, db: Db, request: Request,
                            body: Annotated[CreateLivestream | None, Body()] = None
                            ) -> Envelope:
    row = await livestreams.create_independent(db, app.id, body or CreateLivestream())
    return ok(wire.independent(row, _urls(request)), status_code=201)


@router.get("/livestreams", summary="List livestreams",
            response_model=Success[LivestreamList])
async def list_livestreams(
    app: CurrentApp, db: Db, page: Paged, request: Request,
    exclude_meetings: bool = False,
    sort_order: Annotated[Literal["ASC", "DSC", "DESC"], Query()] = "DSC",
    start_time: UtcDatetime | None = None,
    end_time: UtcDatetime | None = None,
    status: Status | None = None,
) -> Envelope:
    rows, total = await livestreams.list_page(
        db, app.id, page, exclude_meetings=exclude_meetings, sort_order=sort_order,
        start_time=start_time, end_time=end_time, status=status)
    shown = [wire.livestream(row, _urls(request)) for row in rows]
    first = shown[0] if shown else dict.fromkeys(
        ("id", "name", "meeting_id", "ingest_server", "stream_key", "playback_url",
         "status", "disabled", "created_at", "updated_at"))
    return ok({**first, "livestreams": shown, "paging": page.paging(total, len(rows))})


@router.get("/livestreams/sessions/{livestream_session_id}",
            summary="One livestream session", response_model=Success[SessionIntegers])
async def get_livestream_session(livestream_session_id: str, app: CurrentApp,
                                 db: Db) -> Envelope:
    row = await livestreams.session(db, app.id, livestream_session_id)
    return ok(wire.session_integers(row))


@router.get("/livestreams/{livestream_id}", summary="A livestream with its sessions",
            response_model=Success[LivestreamWithSessions])
async def get_livestream(livestream_id: str, app: CurrentApp, db: Db, page: Paged,
                         request: Request) -> Envelope:
    row = await livestreams.get(db, app.id, livestream_id)
    sessions, total = await livestreams.sessions_page(db, row.id, page)
    return ok({"livestream": wire.livestream(row, _urls(request)),
               "session": wire.session_numbers(sessions[0]) if sessions else None,
               "paging": page.paging(total, len(sessions))})


@router.get("/livestreams/{livestream_id}/active-livestream-session",
            summary="A livestream's running session (404 when none runs)",
            response_model=Success[LivestreamWithSession])
async def active_livestream_session(livestream_id: str, app: CurrentApp, db: Db,
                                    request: Request) -> Envelope:
    row, session = await livestreams.active_session(db, app.id, livestream_id)
    return ok({"livestream": wire.livestream(row, _urls(request)),
               "session": wire.session_strings(session)})


@router.get("/analytics/livestreams/overall", tags=["analytics"],
            summary="Livestream count, ingest and viewer seconds over a time range",
            response_model=Success[Analytics])
async def livestream_analytics(app: CurrentApp, db: Db, start_time: UnixSeconds = None,
                               end_time: UnixSeconds = None,
                               filters: Annotated[str | None, Query(max_length=1000)] = None,
                               ) -> Envelope:
    return ok(await livestreams.analytics_overall(db, app.id, start_time, end_time))


@router.get("/analytics/livestreams/daywise", tags=["analytics"],
            summary="Livestream sessions, ingest and viewer seconds per day",
            response_model=Success[list[DayAnalytics]])
async def livestream_analytics_daywise(app: CurrentApp, db: Db,
                                       start_time: UnixSeconds = None,
                                       end_time: UnixSeconds = None,
                                       filters: Annotated[str | None,
                                                          Query(max_length=1000)] = None,
                                       ) -> Envelope:
    return ok(await livestreams.analytics_daywise(db, app.id, start_time, end_time))
