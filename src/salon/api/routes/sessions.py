"""S1–S5 and AN1: sessions, who was in them, and daily analytics."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from salon.api import wire
from salon.api.deps import CurrentApp, Db, Paged
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import PagedSuccess, Success
from salon.api.schemas.sessions import (
    Daywise,
    OneSessionParticipant,
    PeerReport,
    Session,
    SessionList,
    SessionParticipantList,
)
from salon.core.schema import IsoDate, UtcDatetime
from salon.services import sessions

router = APIRouter(prefix="/{app_id}", tags=["sessions"])

Order = Annotated[Literal["ASC", "DESC"], Query()]


@router.get("/sessions", summary="List sessions", response_model=PagedSuccess[SessionList])
async def list_sessions(
    app: CurrentApp, db: Db, page: Paged,
    search: str | None = None,
    status: Literal["LIVE", "ENDED"] | None = None,
    associated_id: str | None = None,
    start_time: UtcDatetime | None = None,
    end_time: UtcDatetime | None = None,
    participants: str | None = None,
    sort_by: Annotated[Literal["minutesConsumed", "createdAt"], Query()] = "createdAt",
    sort_order: Order = "DESC",
) -> Envelope:
    rows, total = await sessions.list_page(
        db, app.id, page, search=search, status=status, associated_id=associated_id,
        start_time=start_time, end_time=end_time, participants=participants,
        sort_by=sort_by, sort_order=sort_order)
    return ok({"sessions": [wire.session(row) for row in rows]},
              paging=page.paging(total, len(rows)))


@router.get("/sessions/peer-report/{peer_id}", summary="What salon knows about one peer",
            response_model=Success[PeerReport])
async def peer_report(peer_id: str, app: CurrentApp, db: Db, filters: str | None = None,
                      include_peer_events: bool = False) -> Envelope:
    row, session = await sessions.peer_report(db, app.id, peer_id)
    events = [{"name": e.event_name, "timestamp": wire.isoformat(e.created_at)}
              for e in row.peer_events or []]
    participant = {
        **wire.attendance(row),
        "role": row.peer.preset_name,
        "session_id": session.id,
        "peer_report": {"metadata": {"events": events, "room_view_type": row.peer.view_type,
                                     "sdk_name": "salon"},
                        "quality": {}},
        "peer_stats": {"events": events},
        "quality_stats": {},
    }
    if not include_peer_events:
        participant.pop("peer_events", None)
    return ok({"participant": participant})


@router.get("/sessions/{session_id}", summary="Get a session", response_model=Success[Session])
async def get_session(session_id: str, app: CurrentApp, db: Db,
                      include_breakout_rooms: bool = False) -> Envelope:
    view = await sessions.get(db, app.id, session_id,
                              include_breakout_rooms=include_breakout_rooms)
    return ok(wire.session(view))


@router.get("/sessions/{session_id}/participants", summary="Who was in a session",
            response_model=PagedSuccess[SessionParticipantList])
async def session_participants(
    session_id: str, app: CurrentApp, db: Db, page: Paged,
    search: str | None = None,
    sort_by: Annotated[Literal["joinedAt", "duration"], Query()] = "joinedAt",
    sort_order: Order = "ASC",
    include_peer_events: bool = False,
    view: Annotated[Literal["raw", "consolidated"], Query()] = "raw",
) -> Envelope:
    rows, total = await sessions.participants(
        db, app.id, session_id, page, search=search, sort_by=sort_by, sort_order=sort_order,
        include_peer_events=include_peer_events, view=view)
    return ok({"participants": [wire.attendance(row) for row in rows]},
              paging=page.paging(total, len(rows)))


@router.get("/sessions/{session_id}/participants/{participant_id}",
            summary="One participant of a session (by peer id or participant id)",
    response_model=Success[OneSessionParticipant],
)
async def session_participant(session_id: str, participant_id: str, app: CurrentApp, db: Db,
                              include_peer_events: bool = False) -> Envelope:
    row = await sessions.participant(db, app.id, session_id, participant_id,
                                     include_peer_events=include_peer_events)
    return ok({"participant": wire.attendance(row)})


@router.get("/analytics/daywise", tags=["analytics"], summary="Sessions and minutes per day",
            response_model=Success[Daywise])
async def daywise(app: CurrentApp, db: Db, start_date: IsoDate | None = None,
                  end_date: IsoDate | None = None) -> Envelope:
    return ok(await sessions.daywise(db, app.id, start_date, end_date))
