"""W1–W6: webhook subscriptions."""

from typing import Annotated, Any

from fastapi import APIRouter, Body

from salon.api import wire
from salon.api.deps import CurrentApp, Db, NoBody
from salon.api.envelope import Envelope, ok
from salon.api.schemas.bodies import patch_body
from salon.api.schemas.envelope import Success
from salon.api.schemas.resources import Webhook
from salon.core.webhooks import WebhookBody
from salon.services import webhooks

router = APIRouter(prefix="/{app_id}/webhooks", tags=["webhooks"])


@router.get("", summary="List webhooks", response_model=Success[list[Webhook]])
async def list_webhooks(app: CurrentApp, db: Db) -> Envelope:
    return ok([wire.webhook(row) for row in await webhooks.list_all(db, app.id)])


@router.post("", summary="Create a webhook", status_code=201, response_model=Success[Webhook])
async def create_webhook(body: WebhookBody, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.webhook(await webhooks.create(db, app.id, body)), status_code=201)


@router.get("/{webhook_id}", summary="Get a webhook", response_model=Success[Webhook])
async def get_webhook(webhook_id: str, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.webhook(await webhooks.get(db, app.id, webhook_id)))


@router.put("/{webhook_id}", summary="Replace a webhook", response_model=Success[Webhook])
async def replace_webhook(webhook_id: str, body: WebhookBody, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.webhook(await webhooks.update(db, app.id, webhook_id, body.model_dump())))


@router.patch("/{webhook_id}", summary="Edit a webhook (any subset of fields)",
               response_model=Success[Webhook], openapi_extra=patch_body(WebhookBody))
async def edit_webhook(
    webhook_id: str, app: CurrentApp, db: Db, body: Annotated[dict[str, Any], Body()]
) -> Envelope:
    return ok(wire.webhook(await webhooks.update(db, app.id, webhook_id, body)))


@router.delete("/{webhook_id}", summary="Delete a webhook", response_model=Success[Webhook])
async def delete_webhook(webhook_id: str, app: CurrentApp, db: Db, _: NoBody) -> Envelope:
    return ok(wire.webhook(await webhooks.delete(db, app.id, webhook_id)))
