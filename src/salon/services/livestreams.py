"""Livestreams: start and stop a meeting's, make independent ones, read them and their
sessions, count analytics; move sessions through their lifecycle.

The rules are `salon.core.livestreams`. Every status change RealtimeKit announces (LIVE,
IDLE; salon also ERRORED) queues its `livestreaming.statusUpdate` in the same
transaction. The runner (`salon.livestream.runner`) runs the encoders; REST and
realtime callers change rows here and then wake it.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core import livestreams as rules
from salon.core.clock import isoformat, shown_until, utcnow
from salon.core.errors import Conflict, InvalidRequest, NotFound
from salon.core.ids import new_uuid
from salon.core.paging import Page
from salon.core.schema import is_rtmp_url
from salon.services import meetings
from salon.store.models import (
    App,
    Livestream,
    LivestreamSession,
    Meeting,
    Participant,
    Preset,
    Session,
)
from salon.webhooks import outbox

#: Statuses announced by `livestreaming.statusUpdate`.
WEBHOOK_STATUSES = frozenset({"LIVE", "IDLE", "ERRORED"})


@dataclass(frozen=True)
class Urls:
    """Where viewers play a livestream and where encoders publish (from settings)."""

    #: The base of playback URLs (`SALON_LIVESTREAM_PLAYBACK_URL`, else the public URL).
    playback_base: str
    #: Where encoders publish; None when nothing takes RTMP (`SALON_RTMP_PORT=0`).
    ingest_server: str | None

    def playback(self, livestream_id: str) -> str:
        return f"{self.playback_base}/live/{livestream_id}/index.m3u8"


def new_stream_key() -> str:
    return secrets.token_urlsafe(24)


async def get(db: AsyncSession, app_id: str, livestream_id: str) -> Livestream:
    row = await db.get(Livestream, livestream_id)
    if row is None or row.app_id != app_id:
        raise NotFound(f"Livestream {livestream_id} not found.")
    return row


async def of_meeting(db: AsyncSession, meeting_id: str) -> Livestream | None:
    return await db.scalar(select(Livestream).where(Livestream.meeting_id == meeting_id)
                           .order_by(Livestream.created_at).limit(1))


async def active_session_of(db: AsyncSession, livestream_id: str) -> LivestreamSession | None:
    return await db.scalar(select(LivestreamSession).where(
        LivestreamSession.livestream_id == livestream_id,
        LivestreamSession.status.in_(rules.ACTIVE))
        .order_by(LivestreamSession.invoked_time.desc()).limit(1))


async def start_meeting(db: AsyncSession, app_id: str, meeting_id: str,
                        body: rules.StartLivestream, *, session_id: str | None,
                        by_peer_id: str | None = None
                        ) -> tuple[Livestream, LivestreamSession]:
    """Queue a livestream session of the meeting's composite (INVOKED); the meeting's
    livestream is made on its first start. 409 if one is already running.

    The meeting's row is locked first: of two starts at once (two API calls, a host's
    click and `live_stream_on_start`), the second reads the livestream and session the
    first committed, and gets the 409, instead of both finding none and both starting
    (two sessions, or two livestreams of one meeting). No unique index is needed."""
    meeting = await meetings.get(db, app_id, meeting_id, lock=True)
    if meeting.status != "ACTIVE":
        raise Conflict(f"Meeting {meeting_id} is INACTIVE: nobody can join it, so there "
                       "is nothing to livestream.")
    livestream = await of_meeting(db, meeting.id)
    now = utcnow()
    if livestream is None:
        livestream = Livestream(id=new_uuid(), app_id=app_id, meeting_id=meeting.id,
                                name=body.name or meeting.title, stream_key=new_stream_key(),
                                status="IDLE", disabled=False, created_at=now, updated_at=now)
        db.add(livestream)
        await db.flush()
    elif await active_session_of(db, livestream.id) is not None:
        raise Conflict(f"Meeting {meeting_id} is already being livestreamed "
                       f"(livestream {livestream.id}); stop it first.")
    elif body.name:
        livestream.name = body.name
    video = body.video_config
    height = video.height if video and video.height else rules.DEFAULT_HEIGHT
    config: dict[str, Any] = {
        "width": (video.width if video and video.width else rules.DEFAULT_WIDTH),
        "height": height,
        "rtmp_urls": _rtmp_out(meeting),
        "qualities": rules.qualities(await _viewer_qualities(db, meeting.id), height),
    }
    session = LivestreamSession(
        id=new_uuid(), livestream_id=livestream.id, app_id=app_id, session_id=session_id,
        status="INVOKED", config=config, by_peer_id=by_peer_id, ingest_seconds=0.0,
        viewer_seconds=0.0, invoked_time=now, updated_at=now)
    db.add(session)
    livestream.status = "INVOKED"
    livestream.updated_at = now
    await db.commit()
    return livestream, session


async def _viewer_qualities(db: AsyncSession, meeting_id: str) -> list[int]:
    """Every height the presets of the meeting's participants ask viewers be offered
    (`config.livestream_viewer_qualities`)."""
    configs = await db.scalars(select(Preset.config).where(Preset.id.in_(
        select(Participant.preset_id).where(Participant.meeting_id == meeting_id))))
    return sorted({int(q) for config in configs
                   for q in (config or {}).get("livestream_viewer_qualities") or []})


def _rtmp_out(meeting: Meeting) -> list[str]:
    """RTMP out: the meeting's `recording_config.live_streaming_config.rtmp_url`."""
    url = ((meeting.recording_config or {}).get("live_streaming_config") or {}).get("rtmp_url")
    if url and not is_rtmp_url(url):
        raise InvalidRequest("recording_config.live_streaming_config.rtmp_url must be an "
                             "rtmp:// or rtmps:// URL.")
    return [url] if url else []


async def stop_meeting(db: AsyncSession, app_id: str, meeting_id: str, urls: Urls,
                       reason: rules.StopReason = "API_CALL") -> LivestreamSession:
    """Ask the meeting's running livestream session to stop; 404 if none runs."""
    await meetings.get(db, app_id, meeting_id)
    livestream = await of_meeting(db, meeting_id)
    session = await active_session_of(db, livestream.id) if livestream else None
    if livestream is None or session is None:
        raise NotFound(f"Meeting {meeting_id} has no active livestream.")
    await request_stop(db, livestream, session, reason, urls)
    return session


async def request_stop(db: AsyncSession, livestream: Livestream, session: LivestreamSession,
                       reason: rules.StopReason, urls: Urls) -> int:
    """A session nobody picked up ends IDLE at once; a running one is asked to stop
    (its runner moves it to IDLE once its encoder finished)."""
    if session.status == "INVOKED" and session.claimed_at is None:
        return await move(db, livestream, session, "IDLE", urls, stop_reason=reason,
                          stopped_time=utcnow())
    session.stop_reason = session.stop_reason or reason
    session.updated_at = utcnow()
    await db.commit()
    return 0


async def stop_all_of_meeting(db: AsyncSession, meeting_id: str, reason: rules.StopReason,
                              urls: Urls) -> list[LivestreamSession]:
    livestream = await of_meeting(db, meeting_id)
    session = await active_session_of(db, livestream.id) if livestream else None
    if livestream is None or session is None:
        return []
    await request_stop(db, livestream, session, reason, urls)
    return [session]


async def create_independent(db: AsyncSession, app_id: str,
                             body: rules.CreateLivestream) -> Livestream:
    now = utcnow()
    row = Livestream(id=new_uuid(), app_id=app_id, meeting_id=None, name=body.name,
                     stream_key=new_stream_key(), status="IDLE", disabled=False,
                     created_at=now, updated_at=now)
    db.add(row)
    await db.commit()
    return row


async def move(db: AsyncSession, livestream: Livestream, session: LivestreamSession,
               status: str, urls: Urls, **fields: Any) -> int:
    """Change a session's status (as the lifecycle allows) and the livestream's with it,
    queue the webhook for the new status, and commit. Returns deliveries queued."""
    if status != session.status and not rules.can_move(session.status, status):
        raise Conflict(f"Livestream session {session.id} cannot go from {session.status} "
                       f"to {status}.")
    changed = status != session.status
    now = utcnow()
    session.status = status
    for key, value in fields.items():
        setattr(session, key, value)
    session.updated_at = now
    livestream.status = status
    livestream.updated_at = now
    queued = 0
    if changed and status in WEBHOOK_STATUSES:
        queued = await outbox.enqueue(db, livestream.app_id,
                                      await webhook_payload(db, livestream, session, urls))
    await db.commit()
    return queued


async def webhook_payload(db: AsyncSession, livestream: Livestream,
                          session: LivestreamSession, urls: Urls) -> dict[str, Any]:
    """`livestreaming.statusUpdate` (reference recording-and-ai §1.7)."""
    meeting_shown: dict[str, Any] | None = None
    if livestream.meeting_id is not None:
        meeting = await db.get(Meeting, livestream.meeting_id)
        app = await db.get(App, livestream.app_id)
        live = await db.get(Session, session.session_id) if session.session_id else None
        if meeting is not None and app is not None:
            meeting_shown = {"id": meeting.id, "title": meeting.title,
                             "createdAt": isoformat(meeting.created_at),
                             "status": live.status if live else "LIVE",
                             "organizedBy": {"id": app.id, "name": app.name}}
    return {"event": "livestreaming.statusUpdate", "streamId": livestream.id,
            "status": session.status, "manualIngest": livestream.meeting_id is None,
            "playbackUrl": urls.playback(livestream.id),
            "ingestServer": urls.ingest_server, "streamKey": livestream.stream_key,
            "meeting": meeting_shown}


# --- reading -------------------------------------------------------------------------------

async def active_of_meeting(db: AsyncSession, app_id: str, meeting_id: str) -> Livestream:
    await meetings.get(db, app_id, meeting_id)
    livestream = await of_meeting(db, meeting_id)
    if livestream is None or await active_session_of(db, livestream.id) is None:
        raise NotFound(f"Meeting {meeting_id} has no active livestream.")
    return livestream


async def list_page(db: AsyncSession, app_id: str, page: Page, *, exclude_meetings: bool,
                    sort_order: str, start_time: datetime | None, end_time: datetime | None,
                    status: str | None) -> tuple[list[Livestream], int]:
    query = select(Livestream).where(Livestream.app_id == app_id)
    if exclude_meetings:
        query = query.where(Livestream.meeting_id.is_(None))
    if start_time is not None:
        query = query.where(Livestream.created_at >= start_time)
    if end_time is not None:
        # up to the end of the millisecond shown: a `created_at` copied back includes it
        query = query.where(Livestream.created_at < shown_until(end_time))
    if status:
        query = query.where(Livestream.status == status)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = Livestream.created_at.asc() if sort_order == "ASC" else Livestream.created_at.desc()
    rows = await db.scalars(query.order_by(order, Livestream.id)
                            .offset(page.offset).limit(page.per_page))
    return list(rows), total


async def sessions_page(db: AsyncSession, livestream_id: str,
                        page: Page) -> tuple[list[LivestreamSession], int]:
    """A livestream's sessions, newest first."""
    query = select(LivestreamSession).where(LivestreamSession.livestream_id == livestream_id)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(query.order_by(LivestreamSession.invoked_time.desc(),
                                           LivestreamSession.id)
                            .offset(page.offset).limit(page.per_page))
    return list(rows), total


async def active_session(db: AsyncSession, app_id: str,
                         livestream_id: str) -> tuple[Livestream, LivestreamSession]:
    livestream = await get(db, app_id, livestream_id)
    session = await active_session_of(db, livestream.id)
    if session is None:
        raise NotFound(f"Livestream {livestream_id} has no active session.")
    return livestream, session


async def session(db: AsyncSession, app_id: str, session_id: str) -> LivestreamSession:
    row = await db.get(LivestreamSession, session_id)
    if row is None or row.app_id != app_id:
        raise NotFound(f"Livestream session {session_id} not found.")
    return row


def ingest_seconds(row: LivestreamSession) -> float:
    """Seconds of media sent to viewers: counted by the runner or the ingest; a LIVE
    session's grows with the clock between their updates."""
    if row.status == "LIVE" and row.started_time is not None:
        return max(row.ingest_seconds, (utcnow() - row.started_time).total_seconds())
    return row.ingest_seconds


# --- analytics -----------------------------------------------------------------------------

def _window(start: int | None, end: int | None) -> tuple[datetime, datetime]:
    """Unix seconds (RealtimeKit's livestream analytics); default: the last 30 days."""
    try:
        until = datetime.fromtimestamp(end, UTC) if end is not None else utcnow()
        since = (datetime.fromtimestamp(start, UTC) if start is not None
                 else until - timedelta(days=30))
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidRequest("start_time and end_time are Unix times in seconds.") from exc
    if since > until:
        raise InvalidRequest("start_time must not be after end_time.")
    return since, until


async def _sessions_in(db: AsyncSession, app_id: str, start: int | None,
                       end: int | None) -> list[LivestreamSession]:
    since, until = _window(start, end)
    return list(await db.scalars(select(LivestreamSession).where(
        LivestreamSession.app_id == app_id, LivestreamSession.invoked_time >= since,
        LivestreamSession.invoked_time <= until)))


async def analytics_overall(db: AsyncSession, app_id: str, start: int | None,
                            end: int | None) -> dict[str, int]:
    rows = await _sessions_in(db, app_id, start, end)
    return {"count": len({row.livestream_id for row in rows}),
            "total_ingest_seconds": int(sum(ingest_seconds(row) for row in rows)),
            "total_viewer_seconds": int(sum(row.viewer_seconds for row in rows))}


async def analytics_daywise(db: AsyncSession, app_id: str, start: int | None,
                            end: int | None) -> list[dict[str, Any]]:
    days: dict[date, list[LivestreamSession]] = {}
    for row in await _sessions_in(db, app_id, start, end):
        days.setdefault(row.invoked_time.date(), []).append(row)
    return [{"date": day.isoformat(), "count": len(rows),
             "total_ingest_seconds": int(sum(ingest_seconds(row) for row in rows)),
             "total_viewer_seconds": int(sum(row.viewer_seconds for row in rows))}
            for day, rows in sorted(days.items())]
