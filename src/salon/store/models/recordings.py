"""Recording jobs: one row per recording, moved through its lifecycle by the scheduler."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, Json, UTCDateTime


class Recording(Base):
    """A composite or track recording of a meeting (RealtimeKit's recording object).

    `config` is the effective config it runs with (body over the meeting's
    `recording_config`), storage secrets included: it is never sent back as stored.
    `claimed_at` and `claimed_by` say when and which node (its cluster id) picked it
    up (`salon.cluster.claims`); `files` lists what the recorder wrote and where
    storage put it.
    """

    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(36))
    #: "composite" or "track".
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    output_file_name: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    start_reason: Mapped[dict[str, Any] | None] = mapped_column(Json)
    stop_reason: Mapped[dict[str, Any] | None] = mapped_column(Json)
    #: The peer that started or steered it last over the realtime protocol, if any.
    by_peer_id: Mapped[str | None] = mapped_column(String(36))
    files: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    download_url: Mapped[str | None] = mapped_column(Text)
    audio_download_url: Mapped[str | None] = mapped_column(Text)
    download_url_expiry: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_size: Mapped[float | None] = mapped_column(Float)
    recording_duration: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    #: Whether it is the meeting's one recording (False) or one of several.
    allow_multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    invoked_time: Mapped[datetime] = mapped_column(UTCDateTime)
    started_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_recordings_app_invoked", "app_id", "invoked_time"),
        Index("ix_recordings_meeting_status", "meeting_id", "status"),
        Index("ix_recordings_status", "status"),
    )
