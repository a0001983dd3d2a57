"""Chat (reference §6.1): who may send, see, edit, delete and pin messages, and who hears.

Messages live in the database — every one is stored before anyone sees it — so the room
keeps only what fan-out needs: a `ChatBoard` per session that hands out strictly
increasing timestamps, so no two messages of a session share a millisecond (history
pages by time). A meeting's sessions follow one another and each starts a fresh board;
history that spans them (`persist_chat`) is ordered by time, then by id. The rules are
pure functions over the room and a `MessageMeta`; the realtime commands call them before
and after the storage step.

- Public messages need `chat.public.can_send` plus `.text` (text, custom) or `.files`
  (image, file); private ones (`to` names participants) need the same under
  `chat.private`, and every recipient must be a joined, visible participant with a peer
  that has `chat.private.can_receive` — otherwise the message is refused, not trimmed.
- A message is seen by every joined peer when public; when private, by the peers of its
  sender and, among its recipients' peers, those that may receive private messages.
- The author edits (while still allowed to send that kind of message); the author or a
  peer with `kick_participant` deletes; a peer with `pin_participant` pins and unpins.
  Nobody acts on a message they may not see.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from salon.core.jsonsize import encoded_size, storable_problem
from salon.core.room.errors import RoomError, forbidden, invalid, not_found
from salon.core.room.outcome import Outcome
from salon.core.room.peer import Peer

if TYPE_CHECKING:  # room.py holds a ChatBoard: import the Room only for type checks
    from salon.core.room.room import Room

MessageType = Literal["text", "image", "file", "custom"]
MESSAGE_TYPES: tuple[MessageType, ...] = ("text", "image", "file", "custom")
FILE_TYPES: frozenset[str] = frozenset({"image", "file"})

MAX_TEXT_CHARS = 4000
MAX_CUSTOM_BYTES = 16 * 1024
MAX_RECIPIENTS = 100
HISTORY_DEFAULT = 50
HISTORY_MAX = 200

#: What an image message may carry; browsers render these safely (no SVG: it runs script).
IMAGE_CONTENT_TYPES: frozenset[str] = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp",
})
#: What a file message may carry: documents, archives, media. Nothing a browser would
#: run as a page (HTML, SVG, JavaScript), and no anonymous `application/octet-stream`.
FILE_CONTENT_TYPES: frozenset[str] = IMAGE_CONTENT_TYPES | frozenset({
    "application/pdf", "text/plain", "text/csv", "text/markdown", "application/json",
    "application/zip", "application/gzip", "application/x-7z-compressed",
    "application/rtf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "audio/mpeg", "audio/ogg", "audio/wav", "audio/webm", "video/mp4", "video/webm",
})


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes show, if any of the allowed ones."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class ChatBoard:
    """Per-session state; a new session starts with a fresh one."""

    #: The newest timestamp handed out; the next is at least a millisecond later.
    last_stamp: datetime | None = None

    def stamp(self, now: datetime) -> datetime:
        """A millisecond-precise time, later than every earlier one of this session."""
        at = now.replace(microsecond=now.microsecond - now.microsecond % 1000)
        if self.last_stamp is not None and at <= self.last_stamp:
            at = self.last_stamp + timedelta(milliseconds=1)
        self.last_stamp = at
        return at


@dataclass(frozen=True)
class MessageMeta:
    """What the rules need to know about a stored message."""

    id: str
    session_id: str
    sender_id: str  # participant id
    type: str
    #: Recipient participant ids; empty for a public message.
    targets: tuple[str, ...] = ()

    @property
    def private(self) -> bool:
        return bool(self.targets)

    def visible_to(self, participant_id: str) -> bool:
        return (not self.targets or participant_id == self.sender_id
                or participant_id in self.targets)


@dataclass(frozen=True)
class Draft:
    """A message that passed the rules and is about to be stored."""

    session_id: str
    meeting_id: str
    participant_id: str
    peer_id: str
    display_name: str
    type: MessageType
    targets: tuple[str, ...]
    created_at: datetime


# --- content ------------------------------------------------------------------------------


def text_payload(text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        raise invalid("A text message needs non-blank 'text'.")
    if len(text) > MAX_TEXT_CHARS:
        raise invalid(f"'text' is {len(text)} characters; at most {MAX_TEXT_CHARS} are allowed.")
    return {"text": text}


def custom_payload(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or not payload:
        raise invalid("A custom message needs 'payload': a non-empty JSON object.")
    problem = storable_problem(payload)
    if problem is not None:
        raise invalid(f"'payload' {problem}.")
    try:
        size = encoded_size(payload)
    except ValueError as error:
        raise invalid(f"'payload' {error}.") from None
    if size > MAX_CUSTOM_BYTES:
        raise invalid(f"'payload' is {size} bytes of JSON; at most {MAX_CUSTOM_BYTES} are allowed.")
    return payload


def check_file_kind(kind: str, content_type: str) -> None:
    """An image message must point at an image; a file message at any allowed file."""
    if kind == "image" and content_type not in IMAGE_CONTENT_TYPES:
        raise invalid(f"An image message needs an image file; this one is {content_type}. "
                      "Send it as a 'file' message.")


# --- permissions --------------------------------------------------------------------------


def _family(kind: str) -> str:
    return "files" if kind in FILE_TYPES else "text"


def may_send(peer: Peer, kind: str, *, private: bool) -> None:
    """Refuse unless the peer may send this kind of message publicly or privately."""
    where = "private" if private else "public"
    rights = peer.permissions.chat.private if private else peer.permissions.chat.public
    if not rights.can_send:
        raise forbidden(f"send {where} chat messages", f"chat.{where}.can_send")
    family = _family(kind)
    if not getattr(rights, family):
        what = "files or images" if family == "files" else f"{kind} messages"
        raise forbidden(f"send {what} in {where} chat", f"chat.{where}.{family}")


def may_upload(peer: Peer) -> None:
    """Uploading is for someone who may send a file somewhere: publicly or privately."""
    chat = peer.permissions.chat
    if not ((chat.public.can_send and chat.public.files)
            or (chat.private.can_send and chat.private.files)):
        raise forbidden("upload chat files", "chat.public.files")


def _recipients(room: "Room", sender: Peer, to: Iterable[str]) -> tuple[str, ...]:
    ids = [pid for pid in dict.fromkeys(to) if pid != sender.participant_id]
    if not ids:
        raise invalid("A private message needs at least one recipient besides you in 'to'.")
    if len(ids) > MAX_RECIPIENTS:
        raise invalid(f"A private message may name at most {MAX_RECIPIENTS} recipients.")
    present: dict[str, list[Peer]] = {}
    for peer in room.joined:
        if not peer.hidden:  # nobody may address a participant they cannot see
            present.setdefault(peer.participant_id, []).append(peer)
    for participant_id in ids:
        peers = present.get(participant_id)
        if not peers:
            raise not_found(f"No participant {participant_id} in the session.")
        if not any(p.permissions.chat.private.can_receive for p in peers):
            raise RoomError("FORBIDDEN", f"Participant {participant_id} may not receive private "
                                         "messages: their preset lacks "
                                         "'chat.private.can_receive'.")
    return tuple(ids)


def prepare_send(room: "Room", peer_id: str, kind: MessageType, to: list[str] | None,
                 now: datetime) -> Draft:
    """Check a new message against the room and stamp it; nothing is stored yet."""
    peer = room.actor(peer_id)
    private = to is not None
    may_send(peer, kind, private=private)
    targets = _recipients(room, peer, to) if to is not None else ()
    assert room.session_id is not None
    return Draft(session_id=room.session_id, meeting_id=room.meeting_id,
                 participant_id=peer.participant_id, peer_id=peer.peer_id,
                 display_name=peer.name, type=kind, targets=targets,
                 created_at=room.chat.stamp(now))


def _seen(peer: Peer, meta: MessageMeta) -> None:
    if not meta.visible_to(peer.participant_id):
        raise not_found(f"No message {meta.id} in this chat.")


def check_reply(peer: Peer, meta: MessageMeta) -> None:
    """One may reply only to a message one can see."""
    _seen(peer, meta)


def check_edit(room: "Room", peer_id: str, meta: MessageMeta) -> Peer:
    peer = room.actor(peer_id)
    _seen(peer, meta)
    if meta.sender_id != peer.participant_id:
        raise RoomError("FORBIDDEN", "You may not edit this message: only its author may.")
    may_send(peer, meta.type, private=meta.private)
    return peer


def check_delete(room: "Room", peer_id: str, meta: MessageMeta) -> Peer:
    peer = room.actor(peer_id)
    _seen(peer, meta)
    if meta.sender_id != peer.participant_id and not peer.permissions.kick_participant:
        raise forbidden("delete others' messages", "kick_participant")
    return peer


def may_pin(room: "Room", peer_id: str) -> Peer:
    """Pinning is the preset's right alone: checked before the message is looked up."""
    peer = room.actor(peer_id)
    if not peer.permissions.pin_participant:
        raise forbidden("pin or unpin chat messages", "pin_participant")
    return peer


def check_pin(room: "Room", peer_id: str, meta: MessageMeta) -> Peer:
    peer = may_pin(room, peer_id)
    _seen(peer, meta)
    return peer


def check_reader(room: "Room", peer_id: str) -> Peer:
    """Reading history or pins needs only to be in the session."""
    return room.actor(peer_id)


# --- fan-out ------------------------------------------------------------------------------


def audience(room: "Room", meta: MessageMeta, *, but: str | None = None) -> set[str]:
    """Joined peers that may see the message, except `but`."""
    if not meta.targets:
        return room.everyone(but=but)
    return {p.peer_id for p in room.joined if p.peer_id != but and (
        p.participant_id == meta.sender_id
        or (p.participant_id in meta.targets and p.permissions.chat.private.can_receive))}


def publish(room: "Room", peer_id: str, message: dict[str, Any], meta: MessageMeta) -> Outcome:
    """A stored message goes out: the reply to its sender, the event to who may see it."""
    out = Outcome(reply={"message": message})
    out.send("chat.message", {"message": message}, audience(room, meta, but=peer_id))
    return out


def announce(room: "Room", peer_id: str, event: str, data: dict[str, Any], meta: MessageMeta,
             reply: dict[str, Any]) -> Outcome:
    """A stored change (edit, pin, delete) goes out to who may see the message."""
    out = Outcome(reply=reply)
    out.send(event, data, audience(room, meta, but=peer_id))
    return out
