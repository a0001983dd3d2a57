"""Taking over a meeting whose node died: the database's view of its live session
(docs/cluster.md "Failover"). The room rules are in `salon.core.room.failover`."""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from salon.store.database import Database
from salon.store.models import Session, SessionPeer


@dataclass(frozen=True)
class Stay:
    """A peer that was in the session, with no leave on record, when its node died."""

    peer_id: str
    participant_id: str
    custom_participant_id: str
    name: str
    joined_at: datetime


@dataclass(frozen=True)
class Orphan:
    """A session left LIVE by a node that no longer runs it."""

    session_id: str
    started_at: datetime
    #: The session's last heartbeat: how recently a node was running it.
    last_seen_at: datetime
    max_concurrent: int
    stays: dict[str, Stay]


async def orphaned_session(database: Database, meeting_id: str) -> Orphan | None:
    """The meeting's session still marked LIVE, with the peers still in it."""
    async with database.session() as db:
        session = await db.scalar(
            select(Session).where(Session.meeting_id == meeting_id, Session.status == "LIVE")
            .order_by(Session.started_at.desc()).limit(1))
        if session is None:
            return None
        rows = await db.scalars(select(SessionPeer).where(
            SessionPeer.session_id == session.id, SessionPeer.left_at.is_(None)))
        stays = {row.id: Stay(row.id, row.participant_id, row.custom_participant_id,
                              row.display_name, row.joined_at) for row in rows}
        return Orphan(session.id, session.started_at, session.last_seen_at,
                      session.max_concurrent_participants, stays)


def resume_token(secret: str, meeting_id: str, peer_id: str, participant_id: str) -> str:
    """A peer's resume token: signed with the deployment's key (shared by every node
    through the database), so the node that takes a meeting over can check the token
    of a peer it has never seen."""
    mac = hmac.new(secret.encode(), f"resume:{meeting_id}:{peer_id}:{participant_id}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


async def peer_on_record(database: Database, peer_id: str) -> bool:
    """Whether any stay of this peer id is on record (in any session): such a peer is
    no early one (`RoomHost.may_seat_early`) — it left, or belongs to another session."""
    async with database.session() as db:
        return await db.get(SessionPeer, peer_id) is not None
