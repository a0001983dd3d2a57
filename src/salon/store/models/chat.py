"""Chat messages, who a private message is for, and the files chat messages carry.

`session_id` is a plain column, not a foreign key: a message is stored the moment it is
sent, while the session row is written by the room's recorder a little later.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, Json, UTCDateTime


class ChatMessage(Base):
    """One message. Deleting keeps the row (`deleted_at`): the export holds what was said."""

    __tablename__ = "chat_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(36))
    participant_id: Mapped[str] = mapped_column(String(36))
    peer_id: Mapped[str] = mapped_column(String(36))
    display_name: Mapped[str] = mapped_column(String(255))
    #: `text`, `image`, `file` or `custom`.
    type: Mapped[str] = mapped_column(String(16))
    #: text `{text}`; image and file `{file_id, name, size, content_type}`; custom: as sent.
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    private: Mapped[bool]
    #: Recipients of a private message (also in `chat_recipients`, for lookups); else [].
    target_participant_ids: Mapped[list[str]] = mapped_column(Json)
    reply_to: Mapped[str | None] = mapped_column(String(36))
    pinned: Mapped[bool]
    edited: Mapped[bool]
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The participant who deleted it: the author or a moderator.
    deleted_by: Mapped[str | None] = mapped_column(String(36))
    #: Millisecond precision, strictly increasing within a meeting (history pages by it).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_chat_messages_meeting_created", "meeting_id", "created_at"),
        Index("ix_chat_messages_session_created", "session_id", "created_at"),
    )


class ChatRecipient(Base):
    """A recipient of a private message."""

    __tablename__ = "chat_recipients"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36), primary_key=True)

    __table_args__ = (Index("ix_chat_recipients_participant", "participant_id", "message_id"),)


class ChatFile(Base):
    """An uploaded file or image: its bytes are in the file store under `storage_key`."""

    __tablename__ = "chat_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_chat_files_meeting_created", "meeting_id", "created_at"),)
