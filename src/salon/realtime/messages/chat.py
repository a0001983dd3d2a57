"""Chat: replies and events (docs/protocol.md "Chat", docs/chat.md)."""

from typing import Any, Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import Json, Timestamp, closed


@closed
class Message(TypedDict):
    """A stored chat message. `payload` is `{text}`, `{file_id, name, size, content_type,
    link}` or the custom object."""

    id: str
    type: Literal["text", "image", "file", "custom"]
    session_id: str
    participant_id: str
    peer_id: str
    display_name: str
    payload: dict[str, Json]
    private: bool
    to: list[str]
    reply_to: str | None
    pinned: bool
    edited: bool
    created_at: Timestamp
    updated_at: Timestamp | None


@closed
class MessageReply(TypedDict):
    message: Message


@closed
class Deleted(TypedDict):
    deleted: str


@closed
class HistoryPage(TypedDict):
    messages: list[Message]
    has_more: bool


@closed
class Messages(TypedDict):
    messages: list[Message]


@closed
class ChatUpdated(TypedDict):
    action: Literal["edit", "pin", "unpin"]
    message: Message
    by_peer_id: str | None


@closed
class ChatDeleted(TypedDict):
    message_id: str
    by_peer_id: str | None


REPLIES: dict[str, Any] = {
    "chat.send": MessageReply,
    "chat.send_file": MessageReply,
    "chat.edit": MessageReply,
    "chat.delete": Deleted,
    "chat.pin": MessageReply,
    "chat.unpin": MessageReply,
    "chat.history": HistoryPage,
    "chat.pinned": Messages,
}

EVENTS: dict[str, Any] = {
    "chat.message": MessageReply,
    "chat.updated": ChatUpdated,
    "chat.deleted": ChatDeleted,
}
