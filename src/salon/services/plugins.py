"""The plugin registry of an app: CRUD with unique names (live activation: `core/room/plugins`)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import isoformat, utcnow
from salon.core.errors import Conflict, NotFound
from salon.core.ids import new_uuid
from salon.core.paging import Page
from salon.core.plugins import PluginBody
from salon.store.models import Plugin

#: `plugin.list` answers with the whole registry; a larger one is cut to the newest.
MAX_LISTED = 500


def _taken(name: str) -> Conflict:
    return Conflict(f"A plugin named '{name}' already exists in this app.")


def view(plugin: Plugin) -> dict[str, Any]:
    """How a registry entry looks on the wire, over REST and in realtime events alike."""
    return {
        "id": plugin.id,
        "name": plugin.name,
        "url": plugin.url,
        "icon": plugin.icon,
        "description": plugin.description,
        "created_at": isoformat(plugin.created_at),
        "updated_at": isoformat(plugin.updated_at),
    }


async def get(db: AsyncSession, app_id: str, plugin_id: str) -> Plugin:
    plugin = await db.get(Plugin, plugin_id)
    if plugin is None or plugin.app_id != app_id:
        raise NotFound(f"Plugin {plugin_id} not found.")
    return plugin


async def find(db: AsyncSession, app_id: str, plugin_id: str) -> Plugin | None:
    """The app's plugin with that id, or None (for the realtime plane)."""
    plugin = await db.get(Plugin, plugin_id)
    return plugin if plugin is not None and plugin.app_id == app_id else None


async def _ensure_name_free(db: AsyncSession, app_id: str, name: str, keep: str | None) -> None:
    other = await db.scalar(select(Plugin.id).where(Plugin.app_id == app_id, Plugin.name == name))
    if other is not None and other != keep:
        raise _taken(name)


async def _commit(db: AsyncSession, name: str) -> None:
    """Commit; two writers racing for one name meet the unique index: 409, not 500."""
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise _taken(name) from None


async def create(db: AsyncSession, app_id: str, body: PluginBody) -> Plugin:
    await _ensure_name_free(db, app_id, body.name, keep=None)
    now = utcnow()
    plugin = Plugin(id=new_uuid(), app_id=app_id, created_at=now, updated_at=now,
                    **body.model_dump())
    db.add(plugin)
    await _commit(db, body.name)
    return plugin


async def update(db: AsyncSession, app_id: str, plugin_id: str, patch: dict[str, Any]) -> Plugin:
    """PATCH (any subset; `null` clears `icon` or `description`), validated as a whole."""
    plugin = await get(db, app_id, plugin_id)
    return await _save(db, plugin, PluginBody.model_validate({**plugin.settings(), **patch}))


async def replace(db: AsyncSession, app_id: str, plugin_id: str, body: PluginBody) -> Plugin:
    """PUT: every field from the body; omitted optional ones are cleared."""
    return await _save(db, await get(db, app_id, plugin_id), body)


async def _save(db: AsyncSession, plugin: Plugin, body: PluginBody) -> Plugin:
    await _ensure_name_free(db, plugin.app_id, body.name, keep=plugin.id)
    for field, value in body.model_dump().items():
        setattr(plugin, field, value)
    plugin.updated_at = utcnow()
    await _commit(db, body.name)
    return plugin


async def delete(db: AsyncSession, app_id: str, plugin_id: str) -> Plugin:
    plugin = await get(db, app_id, plugin_id)
    await db.delete(plugin)
    await db.commit()
    return plugin


async def list_page(
    db: AsyncSession, app_id: str, page: Page, *, search: str | None = None
) -> tuple[list[Plugin], int]:
    query = select(Plugin).where(Plugin.app_id == app_id)
    if search:
        query = query.where(func.lower(Plugin.name).contains(search.lower(), autoescape=True))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(query.order_by(Plugin.created_at.desc(), Plugin.name)
                            .offset(page.offset).limit(page.per_page))
    return list(rows), total


async def list_all(db: AsyncSession, app_id: str) -> list[Plugin]:
    """The app's registry, newest first (at most MAX_LISTED), for `plugin.list`."""
    rows = await db.scalars(select(Plugin).where(Plugin.app_id == app_id)
                            .order_by(Plugin.created_at.desc(), Plugin.name).limit(MAX_LISTED))
    return list(rows)
