"""Presets, meetings and the participants allowed into them."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, Json, UTCDateTime


class Preset(Base):
    __tablename__ = "presets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    permissions: Mapped[dict[str, Any]] = mapped_column(Json)
    ui: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ux_presets_app_name", "app_id", "name", unique=True),)

    def tree(self) -> dict[str, Any]:
        return {"config": self.config, "permissions": self.permissions, "ui": self.ui}


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    preferred_region: Mapped[str | None] = mapped_column(String(32))
    record_on_start: Mapped[bool]
    live_stream_on_start: Mapped[bool]
    persist_chat: Mapped[bool]
    summarize_on_end: Mapped[bool]
    transcribe_on_end: Mapped[bool]
    session_keep_alive_time_in_secs: Mapped[int]
    ai_config: Mapped[dict[str, Any]] = mapped_column(Json)
    recording_config: Mapped[dict[str, Any]] = mapped_column(Json)
    #: Set on a connected meeting (breakout room): the meeting it belongs to.
    parent_meeting_id: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_meetings_app_created", "app_id", "created_at"),
                      Index("ix_meetings_parent", "parent_meeting_id"))

    SETTINGS = (
        "title",
        "preferred_region",
        "record_on_start",
        "live_stream_on_start",
        "persist_chat",
        "summarize_on_end",
        "transcribe_on_end",
        "session_keep_alive_time_in_secs",
        "ai_config",
        "recording_config",
    )

    def settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SETTINGS}


class Participant(Base):
    """Someone allowed into one meeting. `token_version` bumps to revoke earlier tokens."""

    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    preset_id: Mapped[str] = mapped_column(ForeignKey("presets.id"))
    custom_participant_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    picture: Mapped[str | None] = mapped_column(Text)
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ux_participants_meeting_custom", "meeting_id", "custom_participant_id", unique=True),
        Index("ix_participants_meeting_created", "meeting_id", "created_at"),
        Index("ix_participants_preset", "preset_id"),
    )
