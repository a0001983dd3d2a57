"""Chat messages in the database: store, change, and read them as a participant may.

Every function runs in the caller's session and commits before returning, so whatever
the realtime layer acknowledges afterwards is already durable. The rules (who may do
what) come from `salon.core.room.chat`; functions that change a message take the rule
to apply as `check`, called on the stored message inside the transaction.

Scope: a meeting with `persist_chat` has one chat across all its sessions; otherwise
each session has its own and only the current one is visible.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import isoformat
from salon.core.errors import InvalidRequest, NotFound
from salon.core.ids import new_uuid
from salon.core.room.chat import FILE_TYPES, Draft, MessageMeta, check_file_kind
from salon.store.models import ChatFile, ChatMessage, ChatRecipient, Meeting

Check = Callable[[MessageMeta], Any]
Filter = Literal["all", "public", "private"]

FILES_PATH = "/realtime/v1/files"


def file_link(base: str, file_id: str) -> str:
    return f"{base}{FILES_PATH}/{file_id}"


def meta(row: ChatMessage) -> MessageMeta:
    return MessageMeta(id=row.id, session_id=row.session_id, sender_id=row.participant_id,
                       type=row.type, targets=tuple(row.target_participant_ids or ()))


def view(row: ChatMessage, base: str) -> dict[str, Any]:
    """A message as peers see it; files carry a `link` on this server."""
    payload = dict(row.payload)
    if row.type in FILE_TYPES:
        payload["link"] = file_link(base, payload["file_id"])
    return {
        "id": row.id,
        "type": row.type,
        "session_id": row.session_id,
        "participant_id": row.participant_id,
        "peer_id": row.peer_id,
        "display_name": row.display_name,
        "payload": payload,
        "private": row.private,
        "to": list(row.target_participant_ids or ()),
        "reply_to": row.reply_to,
        "pinned": row.pinned,
        "edited": row.edited,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


async def scope(db: AsyncSession, meeting_id: str, session_id: str | None) -> str | None:
    """The session a meeting's chat is limited to, or None when it persists across sessions."""
    persist = await db.scalar(select(Meeting.persist_chat).where(Meeting.id == meeting_id))
    return None if persist else session_id


def _in_scope(meeting_id: str, session_id: str | None) -> Any:
    clause = and_(ChatMessage.meeting_id == meeting_id, ChatMessage.deleted_at.is_(None))
    if session_id is not None:
        clause = and_(clause, ChatMessage.session_id == session_id)
    return clause


def _received_by(participant_id: str) -> Any:
    return select(ChatRecipient.message_id).where(ChatRecipient.participant_id == participant_id)


def _not_found(message_id: str) -> NotFound:
    return NotFound(f"No message {message_id} in this chat.")


async def _current(db: AsyncSession, meeting_id: str, session_id: str | None,
                   message_id: str, *, lock: bool = False) -> ChatMessage:
    """A message of the meeting's chat in scope and not deleted."""
    query = select(ChatMessage).where(ChatMessage.id == message_id,
                                      _in_scope(meeting_id, await scope(db, meeting_id,
                                                                        session_id)))
    if lock:
        query = query.with_for_update()
    row = await db.scalar(query)
    if row is None:
        raise _not_found(message_id)
    return row


async def file_payload(db: AsyncSession, meeting_id: str, file_id: str,
                       kind: str) -> dict[str, Any]:
    """What an image or file message stores about an uploaded file of this meeting."""
    row = await db.get(ChatFile, file_id)
    if row is None or row.meeting_id != meeting_id:
        raise NotFound(f"No uploaded file {file_id} in this meeting; upload it first.")
    check_file_kind(kind, row.content_type)
    return {"file_id": row.id, "name": row.name, "size": row.size,
            "content_type": row.content_type}


async def add(db: AsyncSession, app_id: str, draft: Draft, *, payload: dict[str, Any] | None,
              file_id: str | None = None, reply_to: str | None = None,
              check_reply: Check | None = None, commit: bool = True) -> ChatMessage:
    """Store a new message (with its recipients) and commit (unless told not to: the
    caller commits a batch, `salon.services.chat_writer`)."""
    if reply_to is not None:
        replied = await _current(db, draft.meeting_id, draft.session_id, reply_to)
        if check_reply is not None:
            check_reply(meta(replied))
    if file_id is not None:
        payload = await file_payload(db, draft.meeting_id, file_id, draft.type)
    assert payload is not None
    row = ChatMessage(
        id=new_uuid(), app_id=app_id, meeting_id=draft.meeting_id, session_id=draft.session_id,
        participant_id=draft.participant_id, peer_id=draft.peer_id,
        display_name=draft.display_name, type=draft.type, payload=payload,
        private=bool(draft.targets), target_participant_ids=list(draft.targets),
        reply_to=reply_to, pinned=False, edited=False, created_at=draft.created_at,
        updated_at=draft.created_at,
    )
    db.add(row)
    await db.flush()  # the message before its recipients (foreign key)
    db.add_all(ChatRecipient(message_id=row.id, participant_id=pid) for pid in draft.targets)
    if commit:
        await db.commit()
    return row


async def purge(db: AsyncSession, message_id: str) -> None:
    """Take back a message that was stored but could not be delivered."""
    await db.execute(delete(ChatRecipient).where(ChatRecipient.message_id == message_id))
    await db.execute(delete(ChatMessage).where(ChatMessage.id == message_id))
    await db.commit()


async def edit(db: AsyncSession, meeting_id: str, session_id: str | None, message_id: str,
               check: Check, now: datetime, *, text_payload: dict[str, Any] | None = None,
               custom_payload: dict[str, Any] | None = None,
               file_id: str | None = None) -> ChatMessage:
    """Replace a message's content with new content of the same kind."""
    row = await _current(db, meeting_id, session_id, message_id, lock=True)
    check(meta(row))
    if row.type == "text" and text_payload is not None:
        row.payload = text_payload
    elif row.type == "custom" and custom_payload is not None:
        row.payload = custom_payload
    elif row.type in FILE_TYPES and file_id is not None:
        row.payload = await file_payload(db, meeting_id, file_id, row.type)
    else:
        field = {"text": "text", "custom": "payload"}.get(row.type, "file_id")
        raise InvalidRequest(f"This is a {row.type} message: edit it with '{field}'.")
    row.edited = True
    row.updated_at = now
    await db.commit()
    return row


async def remove(db: AsyncSession, meeting_id: str, session_id: str | None, message_id: str,
                 check: Check, by_participant_id: str, now: datetime) -> ChatMessage:
    """Delete a message for everyone; the row stays for the export."""
    row = await _current(db, meeting_id, session_id, message_id, lock=True)
    check(meta(row))
    row.deleted_at = now
    row.deleted_by = by_participant_id
    row.pinned = False
    row.updated_at = now
    await db.commit()
    return row


async def set_pinned(db: AsyncSession, meeting_id: str, session_id: str | None,
                     message_id: str, check: Check, pinned: bool,
                     now: datetime) -> ChatMessage:
    row = await _current(db, meeting_id, session_id, message_id, lock=True)
    check(meta(row))
    if row.pinned != pinned:
        row.pinned = pinned
        row.updated_at = now
        await db.commit()
    return row


async def history(
    db: AsyncSession, meeting_id: str, session_id: str | None, viewer: str, *,
    before: datetime | None = None, after: datetime | None = None, limit: int = 50,
    kind: Filter = "all", with_participant: str | None = None,
) -> tuple[list[ChatMessage], bool]:
    """Messages `viewer` may see, oldest first: the newest `limit` before `before` (or
    now), or with only `after`, the oldest `limit` after it. Also says if more exist."""
    received = _received_by(viewer)
    query = select(ChatMessage).where(_in_scope(meeting_id, await scope(db, meeting_id,
                                                                        session_id)))
    if with_participant is not None:
        query = query.where(ChatMessage.private.is_(True), or_(
            and_(ChatMessage.participant_id == viewer,
                 ChatMessage.id.in_(_received_by(with_participant))),
            and_(ChatMessage.participant_id == with_participant, ChatMessage.id.in_(received)),
        ))
    elif kind == "public":
        query = query.where(ChatMessage.private.is_(False))
    elif kind == "private":
        query = query.where(ChatMessage.private.is_(True),
                            or_(ChatMessage.participant_id == viewer,
                                ChatMessage.id.in_(received)))
    else:
        query = query.where(or_(ChatMessage.private.is_(False),
                                ChatMessage.participant_id == viewer,
                                ChatMessage.id.in_(received)))
    if before is not None:
        query = query.where(ChatMessage.created_at < before)
    if after is not None:
        query = query.where(ChatMessage.created_at > after)
    oldest_first = after is not None and before is None
    order = ChatMessage.created_at.asc() if oldest_first else ChatMessage.created_at.desc()
    rows = list(await db.scalars(query.order_by(order, ChatMessage.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if not oldest_first:
        rows.reverse()
    return rows, more


async def pinned(db: AsyncSession, meeting_id: str, session_id: str | None, viewer: str,
                 limit: int) -> list[ChatMessage]:
    """Pinned messages `viewer` may see, oldest first."""
    query = select(ChatMessage).where(
        _in_scope(meeting_id, await scope(db, meeting_id, session_id)),
        ChatMessage.pinned.is_(True),
        or_(ChatMessage.private.is_(False), ChatMessage.participant_id == viewer,
            ChatMessage.id.in_(_received_by(viewer))))
    return list(await db.scalars(query.order_by(ChatMessage.created_at).limit(limit)))
