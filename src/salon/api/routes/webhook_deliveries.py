"""A webhook's delivery log and redelivery (a salon extension, used by the dashboard).

The rows are the outbox itself (`salon.webhooks.outbox`): what was sent, how it went,
when the next retry is due. Scoped like the webhook routes: another app's webhook is 404.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from salon.api.deps import CurrentApp, Db, NoBody, Paged
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import PagedSuccess, Success, errors
from salon.api.schemas.webhook_deliveries import WebhookDelivery
from salon.core.clock import isoformat
from salon.services import webhook_deliveries
from salon.store.models import WebhookDelivery as DeliveryRow

router = APIRouter(prefix="/{app_id}/webhooks/{webhook_id}/deliveries", tags=["webhooks"])


def _wire(row: DeliveryRow) -> dict:
    return {"id": row.id, "webhook_id": row.webhook_id, "event": row.event,
            "status": row.status, "attempts": row.attempts,
            "last_status_code": row.last_status_code, "last_error": row.last_error,
            "next_attempt_at": isoformat(row.next_attempt_at) if row.status == "pending"
            else None,
            "created_at": isoformat(row.created_at), "delivered_at": isoformat(row.delivered_at)}


@router.get("", summary="A webhook's deliveries, newest first",
            response_model=PagedSuccess[list[WebhookDelivery]])
async def list_deliveries(
    webhook_id: str, app: CurrentApp, db: Db, page: Paged,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
) -> Envelope:
    rows, total = await webhook_deliveries.list_page(db, app.id, webhook_id, page.offset,
                                                     page.per_page, status)
    return ok([_wire(row) for row in rows], paging=page.paging(total, len(rows)))


@router.post("/{delivery_id}/redeliver", status_code=201,
             summary="Send a delivery's event again (a new delivery, due now)",
             response_model=Success[WebhookDelivery], responses=errors(409))
async def redeliver(webhook_id: str, delivery_id: str, request: Request, app: CurrentApp,
                    db: Db, _: NoBody) -> Envelope:
    row = await webhook_deliveries.redeliver(db, app.id, webhook_id, delivery_id)
    request.app.state.webhooks.wake()
    return ok(_wire(row), status_code=201)
