"""Persisting what a room decides: sessions, peers, peer events, and their webhooks.

Each room's recorder (`salon.live.recorder`) hands its `Record`s here in order, one
transaction per record; webhook deliveries go into the outbox in the same transaction (so
a recorded event is never without its webhook, nor the other way round), and `apply`
says how many it queued, so the dispatcher is woken only when there is something to send.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.ids import new_uuid
from salon.core.room import Record
from salon.services import chat_export
from salon.services.chat_export import ExportLinks
from salon.store.models import App, Meeting, PeerEvent, Session, SessionPeer
from salon.store.models.polls import Poll, PollVote, Question, QuestionUpvote
from salon.webhooks import outbox, payloads


def minutes_between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 60


async def _meeting_payload(db: AsyncSession, session: Session) -> dict[str, Any]:
    meeting = await db.get(Meeting, session.meeting_id)
    app = await db.get(App, session.app_id)
    assert meeting is not None and app is not None
    return payloads.meeting_object(
        meeting_id=meeting.id, session_id=session.id, title=meeting.title, status="LIVE",
        created_at=meeting.created_at, started_at=session.started_at,
        ended_at=session.ended_at, app_id=app.id, app_name=app.name,
    )


async def apply(db: AsyncSession, app_id: str, record: Record, links: ExportLinks) -> int:
    """Persist one room record and commit; returns how many webhook deliveries it queued.

    `links` signs the chat download link of an ending session's `meeting.chatSynced`.
    """
    handler = _HANDLERS[record.kind]
    queued = await handler(db, app_id, record, links)
    await db.commit()
    return queued


async def apply_many(db: AsyncSession, app_id: str, records: list[Record],
                     links: ExportLinks) -> int:
    """Persist several records, in order, in one transaction: a webinar's thousands of
    joins cost one commit per batch rather than one each. All or nothing."""
    queued = 0
    i = 0
    while i < len(records):
        if records[i].kind is Record.PEER_JOINED:
            j = i + 1
            while j < len(records) and records[j].kind is Record.PEER_JOINED:
                j += 1
            queued += await _peers_joined(db, app_id, records[i:j], links)
            i = j
            continue
        queued += await _HANDLERS[records[i].kind](db, app_id, records[i], links)
        i += 1
    await db.commit()
    return queued


async def _session_started(db: AsyncSession, app_id: str, record: Record,
                           links: ExportLinks) -> int:
    data = record.data
    session = Session(
        id=data["session_id"], app_id=app_id, meeting_id=data["meeting_id"],
        parent_session_id=data.get("parent_session_id"), meeting_display_name=data["title"],
        type="meeting", status="LIVE", live_participants=0, max_concurrent_participants=0,
        minutes_consumed=0.0,
        started_at=record.at, last_seen_at=record.at, created_at=record.at,
        updated_at=record.at,
    )
    db.add(session)
    await db.flush()
    return await outbox.enqueue(db, app_id,
                                payloads.meeting_started(await _meeting_payload(db, session)))


async def _peer_joined(db: AsyncSession, app_id: str, record: Record, links: ExportLinks) -> int:
    data, at = record.data, record.at
    db.add(SessionPeer(
        id=data["peer_id"], session_id=data["session_id"], participant_id=data["participant_id"],
        custom_participant_id=data["custom_participant_id"], display_name=data["name"],
        preset_name=data["preset_name"], view_type=data["view_type"], joined_at=at,
        created_at=at, updated_at=at,
    ))
    db.add(_peer_event(data, "PEER_CREATED", data["connected_at"], minutes=0.0))
    db.add(_peer_event(data, "PEER_JOINING", at, minutes=0.0))
    session = await _touch(db, data["session_id"], at, live=data["live"],
                           max_concurrent=data["max_concurrent"])
    return await outbox.enqueue(db, app_id, payloads.participant_joined(
        await _meeting_payload(db, session), peer_id=data["peer_id"],
        display_name=data["name"], custom_participant_id=data["custom_participant_id"],
        joined_at=at,
    ))


async def _peers_joined(db: AsyncSession, app_id: str, records: list[Record],
                        links: ExportLinks) -> int:
    """A run of joins as a few multi-row inserts: the same rows and webhooks as
    `_peer_joined` one by one, without the ORM's work per object, which was most of what
    recording a webinar's joins cost (bench/realtime.py --webinar --profile join)."""
    if len(records) == 1:
        return await _peer_joined(db, app_id, records[0], links)
    peers, events = [], []
    for record in records:
        data, at = record.data, record.at
        peers.append({
            "id": data["peer_id"], "session_id": data["session_id"],
            "participant_id": data["participant_id"],
            "custom_participant_id": data["custom_participant_id"], "display_name": data["name"],
            "preset_name": data["preset_name"], "view_type": data["view_type"],
            "joined_at": at, "created_at": at, "updated_at": at})
        events += [_peer_event_row(data, "PEER_CREATED", data["connected_at"]),
                   _peer_event_row(data, "PEER_JOINING", at)]
    await db.execute(insert(SessionPeer), peers)
    await db.execute(insert(PeerEvent), events)
    sessions: dict[str, Session] = {}
    for record in records:  # in order: the last join leaves the live count
        data = record.data
        sessions[data["session_id"]] = await _touch(
            db, data["session_id"], record.at, live=data["live"],
            max_concurrent=data["max_concurrent"])
    hooks = await outbox.subscribed(db, app_id, "meeting.participantJoined")
    if not hooks:
        return 0
    meetings = {i: await _meeting_payload(db, session) for i, session in sessions.items()}
    return await outbox.enqueue_many(db, app_id, "meeting.participantJoined", [
        payloads.participant_joined(
            meetings[r.data["session_id"]], peer_id=r.data["peer_id"],
            display_name=r.data["name"], custom_participant_id=r.data["custom_participant_id"],
            joined_at=r.at)
        for r in records], hooks)


async def _peer_left(db: AsyncSession, app_id: str, record: Record, links: ExportLinks) -> int:
    data, at = record.data, record.at
    peer = await db.get(SessionPeer, data["peer_id"])
    if peer is None or peer.left_at is not None:
        return 0
    peer.left_at = at
    peer.leave_reason = data["reason"]
    peer.updated_at = at
    minutes = minutes_between(peer.joined_at, at)
    db.add(_peer_event(data, "PEER_LEAVING", at, minutes=minutes))
    session = await _touch(db, data["session_id"], at, live=data["live"])
    session.minutes_consumed += minutes
    return await outbox.enqueue(db, app_id, payloads.participant_left(
        await _meeting_payload(db, session), peer_id=peer.id, display_name=peer.display_name,
        custom_participant_id=peer.custom_participant_id, joined_at=peer.joined_at, left_at=at,
    ))


async def _touched(db: AsyncSession, app_id: str, record: Record, links: ExportLinks) -> int:
    """The session went idle or resumed: only its last-seen time moves."""
    await _touch(db, record.data["session_id"], record.at)
    return 0


async def _session_ended(db: AsyncSession, app_id: str, record: Record, links: ExportLinks) -> int:
    session = await db.get(Session, record.data["session_id"])
    if session is None or session.status == "ENDED":
        return 0
    return await end(db, session, record.at, record.data["reason"], links)


async def end(db: AsyncSession, session: Session, at: datetime, reason: str,
              links: ExportLinks) -> int:
    """Close a session and any peer still open in it; queue `meeting.ended` (and the
    webhooks below). Returns how many deliveries were queued."""
    open_peers = list(await db.scalars(
        select(SessionPeer).where(SessionPeer.session_id == session.id,
                                  SessionPeer.left_at.is_(None))
    ))
    for peer in open_peers:
        peer.left_at = max(at, peer.joined_at)
        peer.leave_reason = "ended"
        peer.updated_at = at
        minutes = minutes_between(peer.joined_at, peer.left_at)
        session.minutes_consumed += minutes
        db.add(_peer_event({"session_id": session.id, "peer_id": peer.id,
                            "participant_id": peer.participant_id,
                            "view_type": peer.view_type},
                           "PEER_LEAVING", peer.left_at, minutes=minutes))
    session.status = "ENDED"
    session.ended_at = at
    session.ended_reason = reason
    session.live_participants = 0
    session.last_seen_at = at
    session.updated_at = at
    meeting = await _meeting_payload(db, session)
    queued = 0
    for peer in open_peers:  # only after a crash: peers normally leave before the end
        queued += await outbox.enqueue(db, session.app_id, payloads.participant_left(
            meeting, peer_id=peer.id, display_name=peer.display_name,
            custom_participant_id=peer.custom_participant_id, joined_at=peer.joined_at,
            left_at=peer.left_at))
    queued += await outbox.enqueue(db, session.app_id, payloads.meeting_ended(meeting, reason))
    # meeting.chatSynced, if anything was said
    return queued + await chat_export.session_ended(db, links, session, meeting)


def _peer_event_row(data: dict[str, Any], name: str, at: datetime) -> dict[str, Any]:
    """A `_peer_event` of no minutes, as a row to insert."""
    return {"id": new_uuid(), "session_id": data["session_id"], "peer_id": data["peer_id"],
            "participant_id": data["participant_id"], "event_name": name,
            "minutes_consumed": 0.0, "socket_session_id": data["peer_id"],
            "preset_view_type": data.get("view_type"), "created_at": at}


def _peer_event(data: dict[str, Any], name: str, at: datetime, *, minutes: float) -> PeerEvent:
    return PeerEvent(
        id=new_uuid(), session_id=data["session_id"], peer_id=data["peer_id"],
        participant_id=data["participant_id"], event_name=name, minutes_consumed=minutes,
        socket_session_id=data["peer_id"], preset_view_type=data.get("view_type"),
        created_at=at,
    )


async def _touch(db: AsyncSession, session_id: str, at: datetime, *, live: int | None = None,
                 max_concurrent: int | None = None) -> Session:
    session = await db.get(Session, session_id)
    assert session is not None, f"session {session_id} was never recorded"
    session.last_seen_at = max(session.last_seen_at, at)
    session.updated_at = at
    if live is not None:
        session.live_participants = live
    if max_concurrent is not None:
        session.max_concurrent_participants = max(session.max_concurrent_participants,
                                                  max_concurrent)
    return session


# --- polls and Q&A (salon.core.room.polls, qna) --------------------------------------------


async def _poll_created(db: AsyncSession, app_id: str, record: Record, links: ExportLinks) -> int:
    data = record.data
    db.add(Poll(
        id=data["poll_id"], session_id=data["session_id"], question=data["question"],
        options=data["options"], anonymous=data["anonymous"], hide_votes=data["hide_votes"],
        created_by=data["created_by"], created_by_user_id=data["created_by_user_id"],
        created_by_peer_id=data["created_by_peer_id"], created_at=record.at,
    ))
    return 0


async def _poll_voted(db: AsyncSession, app_id: str, record: Record, links: ExportLinks) -> int:
    data = record.data
    db.add(PollVote(
        poll_id=data["poll_id"], participant_id=data["participant_id"],
        session_id=data["session_id"], peer_id=data["peer_id"], display_name=data["name"],
        option_index=data["index"], created_at=record.at,
    ))
    return 0


async def _question_asked(db: AsyncSession, app_id: str, record: Record,
                          links: ExportLinks) -> int:
    data = record.data
    db.add(Question(
        id=data["question_id"], session_id=data["session_id"], text=data["text"],
        participant_id=data["participant_id"], peer_id=data["peer_id"],
        display_name=data["name"], hidden=data["hidden"], status="OPEN", upvotes=0,
        created_at=record.at, updated_at=record.at,
    ))
    return 0


async def _question_upvoted(db: AsyncSession, app_id: str, record: Record,
                            links: ExportLinks) -> int:
    data = record.data
    db.add(QuestionUpvote(question_id=data["question_id"], participant_id=data["participant_id"],
                          peer_id=data["peer_id"], created_at=record.at))
    await db.execute(update(Question).where(Question.id == data["question_id"])
                     .values(upvotes=data["upvotes"], updated_at=record.at))
    return 0


async def _question_resolved(db: AsyncSession, app_id: str, record: Record,
                             links: ExportLinks) -> int:
    data = record.data
    await db.execute(update(Question).where(Question.id == data["question_id"]).values(
        status=data["status"], answer=data["answer"], resolved_by_peer_id=data["by_peer_id"],
        resolved_at=record.at, updated_at=record.at))
    return 0


_HANDLERS = {
    Record.SESSION_STARTED: _session_started,
    Record.PEER_JOINED: _peer_joined,
    Record.PEER_LEFT: _peer_left,
    Record.SESSION_IDLE: _touched,
    Record.SESSION_RESUMED: _touched,
    Record.SESSION_ENDED: _session_ended,
    Record.POLL_CREATED: _poll_created,
    Record.POLL_VOTED: _poll_voted,
    Record.QUESTION_ASKED: _question_asked,
    Record.QUESTION_UPVOTED: _question_upvoted,
    Record.QUESTION_RESOLVED: _question_resolved,
}


async def close_stale(db: AsyncSession, links: ExportLinks) -> int:
    """After a crash: end every session still marked LIVE at its last heartbeat.

    Called at start-up, before any room exists, so every LIVE row is an orphan (a single
    node owns all sessions; a cluster will restrict this to the node's own sessions).
    """
    stale = list(await db.scalars(select(Session).where(Session.status == "LIVE")))
    for session in stale:
        await end(db, session, session.last_seen_at, "ALL_PARTICIPANTS_LEFT", links)
    await db.commit()
    return len(stale)


async def heartbeat(db: AsyncSession, session_ids: list[str], at: datetime) -> None:
    if session_ids:
        await db.execute(update(Session).where(Session.id.in_(session_ids))
                         .values(last_seen_at=at))
        await db.commit()
