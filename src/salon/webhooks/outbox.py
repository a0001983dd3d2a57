"""The outbox: webhook deliveries written in the caller's transaction.

Whoever changes state (a session starts, a peer leaves) enqueues the event and commits
both together, so an event exists exactly when its cause does; the dispatcher sends what
is committed, whenever and in whichever process it runs.
"""

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.ids import new_uuid
from salon.store.models import Webhook, WebhookDelivery


async def enqueue(db: AsyncSession, app_id: str, payload: dict[str, Any]) -> int:
    """Add a pending delivery for every enabled webhook of the app subscribed to
    `payload["event"]`; return how many. Does not commit: the caller does."""
    event = payload["event"]
    hooks = await db.scalars(
        select(Webhook).where(Webhook.app_id == app_id, Webhook.enabled.is_(True))
    )
    # Filtered here rather than in SQL: JSON containment differs between SQLite and
    # PostgreSQL, and an app has a handful of webhooks.
    subscribed = [hook for hook in hooks if event in hook.events]
    body = orjson.dumps(payload).decode()
    now = utcnow()
    for hook in subscribed:
        db.add(
            WebhookDelivery(
                id=new_uuid(),
                webhook_id=hook.id,
                app_id=app_id,
                event=event,
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(subscribed)
