"""Realtime commands of the chat feature (docs/chat.md, docs/protocol.md).

Every command is an `AsyncCommand`. A change is checked against the room
(`salon.core.room.chat`), stored and committed (`salon.services.chat`; new messages
through `salon.services.chat_writer`, which commits those sent together in one
transaction), and only then handed back as the room command that replies and fans it
out: nothing is acknowledged or seen before it is durable. Reads (history, pins) answer with a plain reply.
"""

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from salon.core.clock import utcnow
from salon.core.ratelimit import Limit
from salon.core.room import RoomError
from salon.core.room import chat as rules
from salon.core.schema import Int, Strict, UtcDatetime, text
from salon.realtime.commands.base import (
    AsyncCommand,
    Command,
    Context,
    RoomCommand,
    as_room_errors,
)
from salon.realtime.messages.chat import HistoryPage, Messages
from salon.services import chat as messages
from salon.services.chat_writer import ChatWriter
from salon.store.models import ChatMessage

#: Per participant, across its peers (reference §9): text 180/min, files 20/min.
TEXT_LIMIT = Limit("chat", 180, 60)
FILES_LIMIT = Limit("chat.files", 20, 60)
READ_LIMIT = Limit("chat.read", 120, 60)

Id = text(64, min_length=1, name=True)
Text = text()
Recipients = Annotated[list[Id], Field(min_length=1, max_length=rules.MAX_RECIPIENTS)]


class Send(Strict):
    type: Literal["text", "custom"] = "text"
    text: Text | None = None
    payload: dict[str, Any] | None = None
    to: Recipients | None = None
    reply_to: Id | None = None

    @model_validator(mode="after")
    def _content(self) -> "Send":
        if self.type == "text" and self.payload is not None:
            raise ValueError("a text message takes 'text', not 'payload'")
        if self.type == "custom" and self.text is not None:
            raise ValueError("a custom message takes 'payload', not 'text'")
        return self


class SendFile(Strict):
    type: Literal["image", "file"] = "file"
    file_id: Id
    to: Recipients | None = None
    reply_to: Id | None = None


class Edit(Strict):
    message_id: Id
    text: Text | None = None
    payload: dict[str, Any] | None = None
    file_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> "Edit":
        given = [f for f in ("text", "payload", "file_id") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'text', 'payload', 'file_id'")
        return self


class Ref(Strict):
    message_id: Id


class History(Strict):
    before: UtcDatetime | None = None
    after: UtcDatetime | None = None
    limit: Annotated[Int, Field(ge=1, le=rules.HISTORY_MAX)] = rules.HISTORY_DEFAULT
    filter: Literal["all", "public", "private"] = "all"
    #: Only the private conversation between you and this participant.
    participant_id: Id | None = None


class Pinned(Strict):
    limit: Annotated[Int, Field(ge=1, le=rules.HISTORY_MAX)] = rules.HISTORY_MAX


def _base(ctx: Context) -> str:
    return ctx.state.settings.public_base


def _writer(ctx: Context) -> ChatWriter:
    """The node's chat writer (batches concurrent sends into one transaction)."""
    writer = getattr(ctx.state, "chat_writer", None)
    if writer is None:
        writer = ctx.state.chat_writer = ChatWriter(ctx.state.database)
    return writer


# --- sending ------------------------------------------------------------------------------


async def _send(ctx: Context, p: Send) -> RoomCommand:
    # Joined and allowed first (NOT_JOINED, FORBIDDEN), then the content (INVALID).
    draft = rules.prepare_send(ctx.host.room, ctx.peer_id, p.type, p.to, utcnow())
    content = rules.text_payload(p.text) if p.type == "text" else rules.custom_payload(p.payload)
    return await _deliver(ctx, draft, payload=content, reply_to=p.reply_to)


async def _send_file(ctx: Context, p: SendFile) -> RoomCommand:
    draft = rules.prepare_send(ctx.host.room, ctx.peer_id, p.type, p.to, utcnow())
    return await _deliver(ctx, draft, file_id=p.file_id, reply_to=p.reply_to)


async def _deliver(ctx: Context, draft: rules.Draft, *, payload: dict[str, Any] | None = None,
                   file_id: str | None = None, reply_to: str | None = None) -> RoomCommand:
    host, database = ctx.host, ctx.state.database
    sender = host.room.peer(ctx.peer_id)
    with as_room_errors():
        row = await _writer(ctx).add(host.app_id, draft, payload=payload, file_id=file_id,
                                     reply_to=reply_to,
                                     check_reply=lambda meta: rules.check_reply(sender, meta))
    # Stored. If the session ended (or the sender was removed) meanwhile, nobody can be
    # told any more: take the message back rather than keep what nobody saw.
    peer = host.room.peers.get(ctx.peer_id)
    if host.room.session_id != draft.session_id or peer is None or not peer.joined:
        async with database.session() as db:
            await messages.purge(db, row.id)
        raise RoomError("CONFLICT", "The session ended before your message went out; "
                                    "it was not kept.")
    message, meta = messages.view(row, _base(ctx)), messages.meta(row)
    return lambda: rules.publish(host.room, ctx.peer_id, message, meta)


# --- changing -----------------------------------------------------------------------------


def _announce(ctx: Context, row: ChatMessage, action: str) -> RoomCommand:
    meta = messages.meta(row)
    if action == "delete":
        event = "chat.deleted"
        data: dict[str, Any] = {"message_id": row.id, "by_peer_id": ctx.peer_id}
        reply: dict[str, Any] = {"deleted": row.id}
    else:
        message = messages.view(row, _base(ctx))
        event = "chat.updated"
        data = {"action": action, "message": message, "by_peer_id": ctx.peer_id}
        reply = {"message": message}
    return lambda: rules.announce(ctx.host.room, ctx.peer_id, event, data, meta, reply)


async def _edit(ctx: Context, p: Edit) -> RoomCommand:
    room = ctx.host.room
    rules.check_reader(room, ctx.peer_id)

    def check(meta) -> None:
        # Found, yours and allowed first (NOT_FOUND, FORBIDDEN), then the content.
        rules.check_edit(room, ctx.peer_id, meta)
        if p.text is not None:
            rules.text_payload(p.text)
        if p.payload is not None:
            rules.custom_payload(p.payload)

    with as_room_errors():
        async with ctx.state.database.session() as db:
            row = await messages.edit(
                db, room.meeting_id, room.session_id, p.message_id, check, utcnow(),
                text_payload=({"text": p.text} if p.text is not None else None),
                custom_payload=p.payload, file_id=p.file_id)
    return _announce(ctx, row, "edit")


async def _delete(ctx: Context, p: Ref) -> RoomCommand:
    room = ctx.host.room
    me = rules.check_reader(room, ctx.peer_id)
    with as_room_errors():
        async with ctx.state.database.session() as db:
            row = await messages.remove(
                db, room.meeting_id, room.session_id, p.message_id,
                lambda meta: rules.check_delete(room, ctx.peer_id, meta), me.participant_id,
                utcnow())
    return _announce(ctx, row, "delete")


def _pinning(pinned: bool) -> Any:
    async def run(ctx: Context, p: Ref) -> RoomCommand:
        room = ctx.host.room
        rules.may_pin(room, ctx.peer_id)  # before the message is looked up
        with as_room_errors():
            async with ctx.state.database.session() as db:
                row = await messages.set_pinned(
                    db, room.meeting_id, room.session_id, p.message_id,
                    lambda meta: rules.check_pin(room, ctx.peer_id, meta), pinned, utcnow())
        return _announce(ctx, row, "pin" if pinned else "unpin")
    return run


# --- reading ------------------------------------------------------------------------------


async def _history(ctx: Context, p: History) -> HistoryPage:
    room = ctx.host.room
    me = rules.check_reader(room, ctx.peer_id)
    with as_room_errors():
        async with ctx.state.database.session() as db:
            rows, more = await messages.history(
                db, room.meeting_id, room.session_id, me.participant_id,
                before=p.before, after=p.after, limit=p.limit, kind=p.filter,
                with_participant=p.participant_id)
    base = _base(ctx)
    return HistoryPage(messages=[messages.view(row, base) for row in rows], has_more=more)


async def _pinned(ctx: Context, p: Pinned) -> Messages:
    room = ctx.host.room
    me = rules.check_reader(room, ctx.peer_id)
    async with ctx.state.database.session() as db:
        rows = await messages.pinned(db, room.meeting_id, room.session_id, me.participant_id,
                                     p.limit)
    base = _base(ctx)
    return Messages(messages=[messages.view(row, base) for row in rows])


COMMANDS: dict[str, Command | AsyncCommand] = {
    "chat.send": AsyncCommand(Send, _send, limit=TEXT_LIMIT),
    "chat.send_file": AsyncCommand(SendFile, _send_file, limit=FILES_LIMIT),
    "chat.edit": AsyncCommand(Edit, _edit, limit=TEXT_LIMIT),
    "chat.delete": AsyncCommand(Ref, _delete, limit=TEXT_LIMIT),
    "chat.pin": AsyncCommand(Ref, _pinning(True), limit=TEXT_LIMIT),
    "chat.unpin": AsyncCommand(Ref, _pinning(False), limit=TEXT_LIMIT),
    "chat.history": AsyncCommand(History, _history, limit=READ_LIMIT),
    "chat.pinned": AsyncCommand(Pinned, _pinned, limit=READ_LIMIT),
}
