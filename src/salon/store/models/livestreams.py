"""Livestreams and their sessions (RealtimeKit's livestream and livestream-session)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, Json, UTCDateTime


class Livestream(Base):
    """A livestream: of a meeting (one per meeting, made at its first start) or
    independent (`meeting_id` null: an RTMP encoder publishes with `stream_key`).

    `status` follows its latest session: INVOKED (waiting for an encoder process), LIVE
    (media flowing to viewers), IDLE (no session running), ERRORED (the last one failed).
    """

    __tablename__ = "livestreams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(Text)
    #: The secret an RTMP encoder publishes with (independent livestreams).
    stream_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_livestreams_app_created", "app_id", "created_at"),
        Index("ix_livestreams_meeting", "meeting_id"),
    )


class LivestreamSession(Base):
    """One run of a livestream: a meeting's composite from start to stop, or one RTMP
    ingest (an encoder that reconnects within the grace window continues it).

    `config` is what it runs with (`video_config`, `rtmp_urls`, `qualities`);
    `stop_reason` set while it runs asks its encoder to stop.
    """

    __tablename__ = "livestream_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    livestream_id: Mapped[str] = mapped_column(
        ForeignKey("livestreams.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    #: The meeting session it streamed (meeting livestreams).
    session_id: Mapped[str | None] = mapped_column(String(36))
    #: INVOKED, LIVE, IDLE (ended) or ERRORED.
    status: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    err_message: Mapped[str | None] = mapped_column(Text)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    #: The peer that started it over the realtime protocol, if any.
    by_peer_id: Mapped[str | None] = mapped_column(String(36))
    ingest_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    viewer_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    #: When and by which node (its cluster id) it was picked up (`salon.cluster.claims`).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    invoked_time: Mapped[datetime] = mapped_column(UTCDateTime)
    started_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_livestream_sessions_stream", "livestream_id", "invoked_time"),
        Index("ix_livestream_sessions_status", "status"),
        Index("ix_livestream_sessions_app_invoked", "app_id", "invoked_time"),
    )
