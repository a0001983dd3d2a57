"""A session's post-meeting transcript and summary: one row each per session, moved
PROCESSING → READY | FAILED by the post-meeting jobs (`salon.transcription.jobs`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, Json, UTCDateTime


class SessionTranscript(Base):
    """The transcript of one session (RealtimeKit keeps one per session).

    `capture_dir` is where the live transcriber left the session's audio: a job a crash
    interrupted (still PROCESSING at start-up) is run again from it. `files` maps each
    format (`csv`, `json`, `srt`, `vtt`) to its stored file (`StoredFile` fields), so a
    fresh signed link can be made for every GET. `options` is the meeting's
    `ai_config.transcription` the job ran with.
    """

    __tablename__ = "session_transcripts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True)
    #: PROCESSING, READY or FAILED.
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    capture_dir: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(Json)
    files: Mapped[dict[str, Any] | None] = mapped_column(Json)
    #: Sentences in the transcript, once READY (0: nobody was heard).
    line_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The node (its cluster id) running it while PROCESSING, and since when
    #: (`salon.cluster.claims`); null: waiting for a node to take it.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_session_transcripts_status", "status"),)


class SessionSummary(Base):
    """The summary of one session's transcript.

    `text_format` (`markdown` or `plain_text`) and `extension` (`md` or `txt`) are
    those of the stored file; `options` the `ai_config.summarization` it was made with
    (`summary_type`, `text_format`, `word_limit`) plus which engine wrote it.
    """

    __tablename__ = "session_summaries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    text_format: Mapped[str] = mapped_column(String(16))
    extension: Mapped[str] = mapped_column(String(8))
    options: Mapped[dict[str, Any]] = mapped_column(Json)
    file: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: As the transcript's: the node running it while PROCESSING, and since when.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_session_summaries_status", "status"),)
