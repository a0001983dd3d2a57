"""A session's chat as CSV (S6, `meeting.chatSynced`), behind signed, expiring links.

The CSV has RealtimeKit's columns: `id, participantId, sessionId, meetingId, displayName,
pinned, isEdited, payloadType, payload, createdAt`, one row per message sent in the
session, oldest first — deleted ones too, since the export is the record of what was
said. `payload` is the text of a text message, the link of an image or file, and the
JSON of a custom message. A cell that a spreadsheet would take for a formula (one that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return) starts with `'` instead.

A download link is `<public base>/chat-exports/<session id>.csv?expires=<unix>&signature=…`:
an HMAC over the session id and expiry with a key derived from the deployment's secret,
so it works without credentials until it expires and cannot be altered or forged.
The CSV is built when downloaded, so a link always serves the chat as it stands.
"""

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core import signed_links
from salon.core.clock import isoformat, utcnow
from salon.core.errors import NotFound
from salon.core.room.chat import FILE_TYPES
from salon.services.chat import file_link
from salon.store.models import ChatMessage, Session
from salon.webhooks import outbox, payloads

EXPORT_PATH = "/chat-exports"
COLUMNS = ["id", "participantId", "sessionId", "meetingId", "displayName", "pinned",
           "isEdited", "payloadType", "payload", "createdAt"]
PAYLOAD_TYPES = {"text": "TEXT_MESSAGE", "image": "IMAGE_MESSAGE", "file": "FILE_MESSAGE",
                 "custom": "CUSTOM_MESSAGE"}
#: A spreadsheet takes a cell that starts with one of these for a formula (OWASP, CSV
#: injection): such a cell gets a `'` in front, so it opens as the text that was said.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportLinks:
    """Signs and checks download links (`salon.core.signed_links`)."""

    key: bytes
    base: str
    ttl_secs: int

    @classmethod
    def from_secret(cls, secret: str, base: str, ttl_secs: int) -> "ExportLinks":
        return cls(signed_links.derive_key(secret, b"salon chat export links"),
                   base.rstrip("/"), ttl_secs)

    def link(self, session_id: str, now: datetime | None = None) -> tuple[str, datetime]:
        moment, expires = signed_links.expiry(now or utcnow(), timedelta(seconds=self.ttl_secs))
        url = (f"{self.base}{EXPORT_PATH}/{session_id}.csv?expires={expires}"
               f"&signature={signed_links.sign(self.key, session_id, expires)}")
        return url, moment

    def verify(self, session_id: str, expires: int, signature: str,
               now: datetime | None = None) -> None:
        signed_links.verify(self.key, session_id, expires, signature, now,
                            what="chat download link",
                            renew=f"ask GET …/sessions/{session_id}/chat")


async def session_link(db: AsyncSession, links: ExportLinks, app_id: str,
                       session_id: str) -> dict[str, str]:
    """S6: a fresh download link for a session of this app."""
    session = await db.get(Session, session_id)
    if session is None or session.app_id != app_id:
        raise NotFound(f"Session {session_id} not found.")
    url, expiry = links.link(session.id)
    return {"chat_download_url": url, "chat_download_url_expiry": isoformat(expiry) or ""}


async def session_ended(db: AsyncSession, links: ExportLinks, session: Session,
                        meeting: dict[str, Any]) -> int:
    """Queue `meeting.chatSynced` if anything was said in the session (same transaction);
    returns how many deliveries were queued."""
    said = await db.scalar(select(func.count()).select_from(ChatMessage)
                           .where(ChatMessage.session_id == session.id))
    if not said:
        return 0
    url, expiry = links.link(session.id)
    return await outbox.enqueue(db, session.app_id, payloads.chat_synced(
        meeting, chat_download_url=url, chat_download_url_expiry=expiry))


async def csv_text(db: AsyncSession, session_id: str, base: str) -> str:
    """The session's chat as CSV; NotFound for an unknown session."""
    if await db.get(Session, session_id) is None:
        raise NotFound(f"Session {session_id} not found.")
    rows = await db.scalars(select(ChatMessage).where(ChatMessage.session_id == session_id)
                            .order_by(ChatMessage.created_at, ChatMessage.id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(value) for value in (
            row.id, row.participant_id, row.session_id, row.meeting_id, row.display_name,
            _flag(row.pinned), _flag(row.edited), PAYLOAD_TYPES.get(row.type, row.type.upper()),
            _payload(row, base), isoformat(row.created_at),
        )])
    return out.getvalue()


def _cell(value: str | None) -> str | None:
    return "'" + value if value and value.startswith(FORMULA_STARTS) else value


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _payload(row: ChatMessage, base: str) -> str:
    if row.type == "text":
        return row.payload.get("text", "")
    if row.type in FILE_TYPES:
        return file_link(base, row.payload["file_id"])
    return json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False)
