"""Reading sessions for the REST API: lists, details, participants, analytics."""

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import shown_until, utcnow
from salon.core.errors import InvalidRequest, NotFound
from salon.core.paging import Page
from salon.services import transcripts
from salon.services.session_records import minutes_between
from salon.store.models import PeerEvent, Recording, Session, SessionPeer


@dataclass(frozen=True)
class SessionView:
    """A session with the figures that depend on the moment it is read."""

    row: Session
    minutes_consumed: float
    breakout_rooms: list["SessionView"] | None = None
    #: The post-meeting transcript's and summary's status (None: there is none).
    transcript_status: str | None = None
    summary_status: str | None = None


async def _live_minutes(db: AsyncSession, session_ids: list[str]) -> dict[str, float]:
    """Minutes of peers still in live sessions (left peers are already in the row)."""
    if not session_ids:
        return {}
    now = utcnow()
    rows = await db.execute(
        select(SessionPeer.session_id, SessionPeer.joined_at)
        .where(SessionPeer.session_id.in_(session_ids), SessionPeer.left_at.is_(None))
    )
    open_minutes: dict[str, float] = defaultdict(float)
    for session_id, joined_at in rows:
        open_minutes[session_id] += minutes_between(joined_at, now)
    return open_minutes


async def views(db: AsyncSession, rows: list[Session]) -> list[SessionView]:
    live = await _live_minutes(db, [r.id for r in rows if r.status == "LIVE"])
    made = await transcripts.statuses(db, [r.id for r in rows if r.status == "ENDED"])
    return [SessionView(r, r.minutes_consumed + live.get(r.id, 0.0), None,
                        *made.get(r.id, (None, None))) for r in rows]


async def get(db: AsyncSession, app_id: str, session_id: str, *,
              include_breakout_rooms: bool = False) -> SessionView:
    row = await db.get(Session, session_id)
    if row is None or row.app_id != app_id:
        raise NotFound(f"Session {session_id} not found.")
    view = (await views(db, [row]))[0]
    if include_breakout_rooms:
        children = list(await db.scalars(
            select(Session).where(Session.parent_session_id == row.id)
            .order_by(Session.started_at)))
        view = replace(view, breakout_rooms=await views(db, children))
    return view


async def list_page(
    db: AsyncSession, app_id: str, page: Page, *,
    search: str | None = None, status: str | None = None, associated_id: str | None = None,
    start_time: datetime | None = None, end_time: datetime | None = None,
    participants: str | None = None,
    sort_by: Literal["minutesConsumed", "createdAt"] = "createdAt",
    sort_order: Literal["ASC", "DESC"] = "DESC",
) -> tuple[list[SessionView], int]:
    query = select(Session).where(Session.app_id == app_id, Session.parent_session_id.is_(None))
    if search:
        query = query.where(or_(Session.id == search, Session.meeting_id == search,
                                func.lower(Session.meeting_display_name)
                                .contains(search.lower(), autoescape=True)))
    if status:
        query = query.where(Session.status == status)
    if associated_id:
        query = query.where(Session.meeting_id == associated_id)
    if start_time is not None:
        query = query.where(Session.started_at >= start_time)
    if end_time is not None:
        query = query.where(Session.started_at < shown_until(end_time))
    if participants:
        wanted = [p.strip() for p in participants.split(",") if p.strip()]
        query = query.where(Session.id.in_(
            select(SessionPeer.session_id).where(or_(
                SessionPeer.participant_id.in_(wanted),
                SessionPeer.custom_participant_id.in_(wanted)))))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = Session.minutes_consumed if sort_by == "minutesConsumed" else Session.created_at
    order = column.asc() if sort_order == "ASC" else column.desc()
    rows = list(await db.scalars(query.order_by(order, Session.id)
                                 .offset(page.offset).limit(page.per_page)))
    return await views(db, rows), total


# --- session participants ----------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """A session participant: one peer's stay (raw), or a participant's sum (consolidated)."""

    peer: SessionPeer
    user_id: str
    joined_at: datetime
    left_at: datetime | None
    duration: float
    peer_events: list[PeerEvent] | None = None


def _attendance(peer: SessionPeer, now: datetime) -> Attendance:
    end = peer.left_at or now
    return Attendance(peer, peer.participant_id, peer.joined_at, peer.left_at,
                      minutes_between(peer.joined_at, end))


async def participants(
    db: AsyncSession, app_id: str, session_id: str, page: Page, *,
    search: str | None = None, sort_by: Literal["joinedAt", "duration"] = "joinedAt",
    sort_order: Literal["ASC", "DESC"] = "ASC", include_peer_events: bool = False,
    view: Literal["raw", "consolidated"] = "raw",
) -> tuple[list[Attendance], int]:
    session = (await get(db, app_id, session_id)).row
    session_ids = [session.id]
    if view == "consolidated":  # a participant's time across the breakout rooms too
        session_ids += list(await db.scalars(
            select(Session.id).where(Session.parent_session_id == session.id)))
    query = select(SessionPeer).where(SessionPeer.session_id.in_(session_ids))
    if search:
        needle = search.lower()
        query = query.where(or_(SessionPeer.participant_id == search,
                                SessionPeer.id == search,
                                func.lower(SessionPeer.custom_participant_id) == needle,
                                func.lower(SessionPeer.display_name)
                                .contains(needle, autoescape=True)))
    now = utcnow()
    rows = [_attendance(peer, now) for peer in await db.scalars(query)]
    if view == "consolidated":
        rows = _consolidate(rows)
    key = (lambda a: a.duration) if sort_by == "duration" else (lambda a: a.joined_at)
    rows.sort(key=key, reverse=sort_order == "DESC")
    selected = rows[page.offset:page.offset + page.per_page]
    if include_peer_events:
        selected = await _with_events(db, session_ids, selected)
    return selected, len(rows)


def _consolidate(rows: list[Attendance]) -> list[Attendance]:
    """One row per person: a person is one participant per meeting, and the breakout
    rooms' participants share the parent participant's `custom_participant_id`."""
    by_user: dict[str, list[Attendance]] = defaultdict(list)
    for row in rows:
        by_user[row.peer.custom_participant_id or row.user_id].append(row)
    merged = []
    for stays in by_user.values():
        stays.sort(key=lambda a: a.joined_at)
        still_here = any(a.left_at is None for a in stays)
        merged.append(Attendance(
            stays[0].peer, stays[0].user_id, stays[0].joined_at,
            None if still_here else max(a.left_at for a in stays if a.left_at),
            sum(a.duration for a in stays),
        ))
    return merged


_EVENT_ORDER = {"PEER_CREATED": 0, "PEER_JOINING": 1, "PEER_LEAVING": 2}


async def _with_events(db: AsyncSession, session_ids: list[str],
                       rows: list[Attendance]) -> list[Attendance]:
    if not rows:
        return rows
    wanted = {row.user_id for row in rows}
    events: dict[str, list[PeerEvent]] = defaultdict(list)
    for event in await db.scalars(
        select(PeerEvent).where(PeerEvent.session_id.in_(session_ids),
                                PeerEvent.participant_id.in_(wanted))
        .order_by(PeerEvent.created_at, case(_EVENT_ORDER, value=PeerEvent.event_name))
    ):
        events[event.participant_id].append(event)
    return [Attendance(r.peer, r.user_id, r.joined_at, r.left_at, r.duration,
                       [e for e in events[r.user_id]
                        if e.peer_id == r.peer.id or len(session_ids) > 1])
            for r in rows]


async def participant(db: AsyncSession, app_id: str, session_id: str, peer_or_user_id: str,
                      *, include_peer_events: bool = False) -> Attendance:
    session = (await get(db, app_id, session_id)).row
    peer = await db.scalar(
        select(SessionPeer).where(SessionPeer.session_id == session.id,
                                  or_(SessionPeer.id == peer_or_user_id,
                                      SessionPeer.participant_id == peer_or_user_id))
        .order_by(SessionPeer.joined_at))
    if peer is None:
        raise NotFound(f"Participant {peer_or_user_id} was not in session {session_id}.")
    row = _attendance(peer, utcnow())
    if include_peer_events:
        row = (await _with_events(db, [session.id], [row]))[0]
    return row


async def peer_report(db: AsyncSession, app_id: str, peer_id: str) -> tuple[Attendance, Session]:
    peer = await db.get(SessionPeer, peer_id)
    session = await db.get(Session, peer.session_id) if peer else None
    if peer is None or session is None or session.app_id != app_id:
        raise NotFound(f"Peer {peer_id} not found.")
    row = (await _with_events(db, [session.id], [_attendance(peer, utcnow())]))[0]
    return row, session


# --- analytics ---------------------------------------------------------------------------


EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date.max
#: The longest range one daywise report covers, both ends included.
MAX_DAYWISE_DAYS = 366
DEFAULT_DAYWISE_DAYS = 30


def daywise_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The days a report covers: as asked, else the 30 days up to `end` (default today,
    or `start` when that is later); refused outside 1970–9999, reversed, or too long."""
    for name, day in (("start_date", start), ("end_date", end)):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidRequest(f"{name} must be between {EARLIEST_DAY} and {LATEST_DAY}.")
    if end is None:
        end = max(today, start) if start is not None else today
    if start is None:
        start = max(end - timedelta(days=DEFAULT_DAYWISE_DAYS - 1), EARLIEST_DAY)
    if start > end:
        raise InvalidRequest(f"start_date ({start}) must not be after end_date ({end}).")
    if (end - start).days + 1 > MAX_DAYWISE_DAYS:
        raise InvalidRequest(f"A daywise report covers at most {MAX_DAYWISE_DAYS} days; "
                             f"{start} to {end} is {(end - start).days + 1}.")
    return start, end


async def daywise(db: AsyncSession, app_id: str, start: date | None,
                  end: date | None) -> dict[str, Any]:
    """Sessions and recordings and their minutes per day (UTC, by start), default the
    last 30 days."""
    start, end = daywise_range(start, end, utcnow().date())
    query = select(Session).where(Session.app_id == app_id,
                                  Session.started_at >= datetime.combine(start, time(), UTC))
    if end < LATEST_DAY:  # the day after 9999-12-31 is no date: no upper bound needed
        query = query.where(
            Session.started_at < datetime.combine(end + timedelta(days=1), time(), UTC))
    rows = list(await db.scalars(query))
    recording_stats = await _recording_stats(db, app_id, start, end)
    figures = await views(db, rows)
    days: dict[str, list[float]] = defaultdict(list)
    for view in figures:
        days[view.row.started_at.date().isoformat()].append(view.minutes_consumed)
    day_stats = [{"day": day, "total_sessions": len(minutes),
                  "total_session_minutes": round(sum(minutes), 4)}
                 for day, minutes in sorted(days.items())]
    return {
        "session_stats": {
            "sessions_count": len(figures),
            "sessions_minutes_consumed": round(sum(v.minutes_consumed for v in figures), 4),
            "day_stats": day_stats,
        },
        "recording_stats": recording_stats,
    }


async def _recording_stats(db: AsyncSession, app_id: str, start: date,
                           end: date) -> dict[str, Any]:
    """Recordings that recorded (a first frame: `started_time`) per UTC day of that
    start, and their minutes (`recording_duration`, pauses left out; 0 until done). A
    day's minutes are a whole number, rounded up, as the official SDK types them."""
    query = select(Recording.started_time, Recording.recording_duration).where(
        Recording.app_id == app_id,
        Recording.started_time >= datetime.combine(start, time(), UTC))
    if end < LATEST_DAY:
        query = query.where(
            Recording.started_time < datetime.combine(end + timedelta(days=1), time(), UTC))
    days: dict[str, list[float]] = defaultdict(list)
    for started, seconds in (await db.execute(query)).all():
        days[started.date().isoformat()].append((seconds or 0) / 60)
    minutes = [m for day in days.values() for m in day]
    return {
        "recording_count": len(minutes),
        "recording_minutes_consumed": round(sum(minutes), 4),
        "day_stats": [{"day": day, "total_recordings": len(day_minutes),
                       "total_recording_minutes": math.ceil(round(sum(day_minutes), 4))}
                      for day, day_minutes in sorted(days.items())],
    }
