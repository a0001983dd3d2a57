"""Polls and their votes, questions and their upvotes: kept with the session they were in.

The room decides (`salon.core.room.polls`, `qna`); these rows are its records, written in
order by the session recorder. Primary keys (poll, participant) and (question,
participant) repeat the room's one-vote rule in the database.
"""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, Json, UTCDateTime


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    #: The option texts, in order; votes name an option by its index.
    options: Mapped[list[str]] = mapped_column(Json)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    hide_votes: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(255))
    #: The creating participant; null when the operator created it over REST.
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    created_by_peer_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_polls_session_created", "session_id", "created_at"),)


class PollVote(Base):
    __tablename__ = "poll_votes"

    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"),
                                         primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    peer_id: Mapped[str] = mapped_column(String(36))
    display_name: Mapped[str] = mapped_column(String(255))
    option_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_poll_votes_session", "session_id"),)


class Question(Base):
    """A Q&A question (a salon addition); `status` is OPEN, ANSWERED or DISMISSED."""

    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    participant_id: Mapped[str] = mapped_column(String(36))
    peer_id: Mapped[str] = mapped_column(String(36))
    display_name: Mapped[str] = mapped_column(String(255))
    #: Asked by a hidden participant (shown to others without a name).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    resolved_by_peer_id: Mapped[str | None] = mapped_column(String(36))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_questions_session_created", "session_id", "created_at"),)


class QuestionUpvote(Base):
    __tablename__ = "question_upvotes"

    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"),
                                             primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    peer_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
