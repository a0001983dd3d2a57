"""The webhook outbox and the deployment's webhook signing key.

A delivery row is written in the same transaction as the state change that caused it, so
an event is never lost between "it happened" and "it was sent", even across a crash.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salon.store.models.base import Base, UTCDateTime


class WebhookDelivery(Base):
    """One event for one webhook. `id` is the `rtk-uuid` receivers de-duplicate on."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    #: The exact JSON sent, serialized once: the signature covers these bytes.
    body: Mapped[str] = mapped_column(Text)
    #: `pending`, `delivered` or `failed` (gave up: a 4xx, or out of attempts).
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the next attempt is due; a dispatcher pushes it forward while it holds the row.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id"),
    )


class WebhookKey(Base):
    """The RSA key pair webhook bodies are signed with; one row, made on first start."""

    __tablename__ = "webhook_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
