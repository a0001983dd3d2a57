"""A webhook's delivery log, and sending one of its events again.

A redelivery is a new outbox row with the same signed body: the log keeps the original
as it ended, the receiver gets a new `rtk-uuid` (so it is not discarded as a duplicate
of an event it failed to handle), and the dispatcher sends it like any other row.
"""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import Conflict, NotFound
from salon.core.ids import new_uuid
from salon.services import webhooks
from salon.store.models import WebhookDelivery

STATUSES = ("pending", "delivered", "failed")


async def list_page(db: AsyncSession, app_id: str, webhook_id: str, offset: int, limit: int,
                    status: str | None = None) -> tuple[list[WebhookDelivery], int]:
    """Newest first."""
    await webhooks.get(db, app_id, webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(query.order_by(WebhookDelivery.created_at.desc(),
                                           WebhookDelivery.id.desc())
                            .offset(offset).limit(limit))
    return list(rows), total


#: What a delivery must have become before it may be sent again: one still pending would
#: reach the receiver twice, under two `rtk-uuid`s.
REDELIVERABLE = ("delivered", "failed")


async def redeliver(db: AsyncSession, app_id: str, webhook_id: str,
                    delivery_id: str) -> WebhookDelivery:
    """Queue the delivery's body again for the same webhook, due now; the new row.

    Refused for a disabled webhook (the dispatcher sends whatever is queued, and the
    operator turned the hook off) and for a delivery that is not over yet.
    """
    hook = await webhooks.get(db, app_id, webhook_id)
    original = await db.get(WebhookDelivery, delivery_id)
    if original is None or original.webhook_id != webhook_id:
        raise NotFound(f"Delivery {delivery_id} not found.")
    if not hook.enabled:
        raise Conflict(f"Webhook {webhook_id} is disabled; enable it to redeliver.")
    if original.status not in REDELIVERABLE:
        raise Conflict(f"Delivery {delivery_id} is still {original.status}; only a delivered "
                       "or failed delivery can be sent again.")
    now = utcnow()
    row = WebhookDelivery(id=new_uuid(), webhook_id=webhook_id, app_id=app_id,
                          event=original.event, body=original.body, status="pending",
                          attempts=0, next_attempt_at=now, created_at=now)
    db.add(row)
    try:
        await db.commit()
    except IntegrityError:
        # The webhook was deleted since it was read (a foreign key violation on
        # PostgreSQL): as if the request had come a moment later.
        await db.rollback()
        raise NotFound(f"Webhook {webhook_id} not found.") from None
    return row
