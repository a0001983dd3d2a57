"""Webhook subscriptions of an app (delivery: `salon.webhooks`)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import NotFound
from salon.core.ids import new_uuid
from salon.core.webhooks import WebhookBody
from salon.store.models import Webhook


async def create(db: AsyncSession, app_id: str, body: WebhookBody) -> Webhook:
    now = utcnow()
    hook = Webhook(id=new_uuid(), app_id=app_id, created_at=now, updated_at=now, **body.model_dump())
    db.add(hook)
    await db.commit()
    return hook


async def get(db: AsyncSession, app_id: str, webhook_id: str) -> Webhook:
    hook = await db.get(Webhook, webhook_id)
    if hook is None or hook.app_id != app_id:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return hook


async def list_all(db: AsyncSession, app_id: str) -> list[Webhook]:
    query = select(Webhook).where(Webhook.app_id == app_id).order_by(Webhook.created_at, Webhook.id)
    return list(await db.scalars(query))


async def update(db: AsyncSession, app_id: str, webhook_id: str, patch: dict[str, Any]) -> Webhook:
    """PATCH (any subset) and PUT (whole body) both end here, validated as a whole."""
    hook = await get(db, app_id, webhook_id)
    current = {"name": hook.name, "url": hook.url, "events": hook.events, "enabled": hook.enabled}
    body = WebhookBody.model_validate({**current, **patch})
    for field, value in body.model_dump().items():
        setattr(hook, field, value)
    hook.updated_at = utcnow()
    await db.commit()
    return hook


async def delete(db: AsyncSession, app_id: str, webhook_id: str) -> Webhook:
    hook = await get(db, app_id, webhook_id)
    await db.delete(hook)
    await db.commit()
    return hook
