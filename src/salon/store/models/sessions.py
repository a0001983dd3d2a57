"""Live sessions of meetings, the peers that were in them, and their peer events."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, Json, UTCDateTime


class Session(Base):
    """One live instance of a meeting. `last_seen_at` is a heartbeat: after a crash the
    session is closed at the last moment the server knew it was alive."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    parent_session_id: Mapped[str | None] = mapped_column(String(36))
    meeting_display_name: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16), default="meeting")
    status: Mapped[str] = mapped_column(String(8))
    live_participants: Mapped[int] = mapped_column(Integer, default=0)
    max_concurrent_participants: Mapped[int] = mapped_column(Integer, default=0)
    #: Minutes of peers that have left; live peers' time is added when read.
    minutes_consumed: Mapped[float] = mapped_column(Float, default=0.0)
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    meta: Mapped[dict[str, Any] | None] = mapped_column(Json)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_sessions_app_started", "app_id", "started_at"),
        Index("ix_sessions_meeting_status", "meeting_id", "status"),
        Index("ix_sessions_status", "status"),
    )


class SessionPeer(Base):
    """A peer's stay in a session (RealtimeKit's session participant: `id` is the peer id)."""

    __tablename__ = "session_peers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(String(36))
    custom_participant_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    preset_name: Mapped[str] = mapped_column(String(100))
    view_type: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leave_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_session_peers_session_joined", "session_id", "joined_at"),
        Index("ix_session_peers_participant", "participant_id"),
    )


class PeerEvent(Base):
    """PEER_CREATED, PEER_JOINING, PEER_LEAVING, as RealtimeKit's peer events."""

    __tablename__ = "peer_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    peer_id: Mapped[str] = mapped_column(String(36))
    participant_id: Mapped[str] = mapped_column(String(36))
    event_name: Mapped[str] = mapped_column(String(16))
    minutes_consumed: Mapped[float] = mapped_column(Float, default=0.0)
    socket_session_id: Mapped[str | None] = mapped_column(String(36))
    preset_view_type: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_peer_events_session_peer", "session_id", "peer_id"),)
