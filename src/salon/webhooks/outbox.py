"""The outbox: webhook deliveries written in the caller's transaction.

Whoever changes state (a session starts, a peer leaves) enqueues the event and commits
both together, so an event exists exactly when its cause does; the dispatcher sends what
is committed, whenever and in whichever process it runs.
"""

import logging
from typing import Any

import orjson
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from salon.core.clock import utcnow
from salon.core.ids import new_uuid
from salon.store.models import Webhook, WebhookDelivery

log = logging.getLogger("salon.webhooks")

#: Set in a session's `info` when it queued deliveries: its commit wakes the dispatcher.
QUEUED = "salon_webhooks_queued"


async def enqueue(db: AsyncSession, app_id: str, payload: dict[str, Any]) -> int:
    """Add a pending delivery for every enabled webhook of the app subscribed to
    `payload["event"]`; return how many. Does not commit: the caller does."""
    return await enqueue_many(db, app_id, payload["event"], [payload])


async def subscribed(db: AsyncSession, app_id: str, event: str) -> list[Webhook]:
    """The app's enabled webhooks that take `event`."""
    hooks = await db.scalars(
        select(Webhook).where(Webhook.app_id == app_id, Webhook.enabled.is_(True))
    )
    # Filtered here rather than in SQL: JSON containment differs between SQLite and
    # PostgreSQL, and an app has a handful of webhooks.
    return [hook for hook in hooks if event in hook.events]


async def enqueue_many(db: AsyncSession, app_id: str, event: str,
                       bodies: list[dict[str, Any]], hooks: list[Webhook] | None = None) -> int:
    """`enqueue` for several payloads of one event: the webhooks are looked up once
    (or given, when the caller already knows there are any)."""
    if hooks is None:
        hooks = await subscribed(db, app_id, event)
    if not hooks or not bodies:
        return 0
    now = utcnow()
    texts = [orjson.dumps(payload).decode() for payload in bodies]
    rows = [{"id": new_uuid(), "webhook_id": hook.id, "app_id": app_id, "event": event,
             "body": text, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "created_at": now}
            for text in texts for hook in hooks]
    await db.execute(insert(WebhookDelivery), rows)
    db.sync_session.info[QUEUED] = True
    return len(rows)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    """The deliveries are committed: this process's dispatcher sends them now, rather
    than at its next look (which an idle dispatcher takes only every few seconds)."""
    if not session.info.pop(QUEUED, False):
        return
    database = session.info.get("database")
    wake = getattr(database, "on_webhooks_committed", None)
    if wake is not None:
        try:
            wake()
        except Exception:  # never the commit's failure: the next look finds them
            log.exception("could not wake the webhook dispatcher")
