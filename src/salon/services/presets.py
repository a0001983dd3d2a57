"""Presets of an app: CRUD, deep-partial updates, and the in-use guard on delete."""

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core import presets as schema
from salon.core.clock import utcnow
from salon.core.errors import Conflict, InvalidRequest, NotFound
from salon.core.ids import new_uuid
from salon.core.paging import Page
from salon.store.models import Participant, Preset


async def get(db: AsyncSession, app_id: str, preset_id: str) -> Preset:
    preset = await db.get(Preset, preset_id)
    if preset is None or preset.app_id != app_id:
        raise NotFound(f"Preset {preset_id} not found.")
    return preset


def unknown_preset(name: str) -> InvalidRequest:
    return InvalidRequest(f"Preset '{name}' does not exist in this app; create it first "
                          "or use one of the app's presets (GET /presets lists them).")


async def by_name(db: AsyncSession, app_id: str, name: str) -> Preset:
    preset = await db.scalar(select(Preset).where(Preset.app_id == app_id, Preset.name == name))
    if preset is None:
        raise unknown_preset(name)
    return preset


async def _ensure_name_free(db: AsyncSession, app_id: str, name: str, keep: str | None) -> None:
    query = select(Preset.id).where(Preset.app_id == app_id, Preset.name == name)
    other = await db.scalar(query)
    if other is not None and other != keep:
        raise Conflict(f"A preset named '{name}' already exists in this app.")


async def create(db: AsyncSession, app_id: str, body: schema.PresetBody) -> Preset:
    await _ensure_name_free(db, app_id, body.name, keep=None)
    now = utcnow()
    preset = Preset(id=new_uuid(), app_id=app_id, name=body.name, created_at=now,
                    updated_at=now, **body.tree())
    db.add(preset)
    await db.commit()
    return preset


async def _save(db: AsyncSession, preset: Preset, body: schema.PresetBody) -> Preset:
    await _ensure_name_free(db, preset.app_id, body.name, keep=preset.id)
    preset.name = body.name
    for key, value in body.tree().items():
        setattr(preset, key, value)
    preset.updated_at = utcnow()
    await db.commit()
    return preset


async def update(db: AsyncSession, app_id: str, preset_id: str, patch: dict[str, Any]) -> Preset:
    """PATCH: lay the deep-partial body over the stored tree, validate the whole, save."""
    preset = await get(db, app_id, preset_id)
    body = schema.patched({"name": preset.name, **preset.tree()}, patch)
    return await _save(db, preset, body)


async def replace(db: AsyncSession, app_id: str, preset_id: str, body: schema.PresetBody) -> Preset:
    return await _save(db, await get(db, app_id, preset_id), body)


async def _in_use(db: AsyncSession, preset_id: str, name: str) -> Conflict | None:
    if not await db.scalar(select(exists().where(Participant.preset_id == preset_id))):
        return None
    count = await db.scalar(
        select(func.count()).select_from(Participant).where(Participant.preset_id == preset_id)
    )
    return Conflict(f"Preset '{name}' is still used by {count} participant(s); move "
                    "them to another preset or delete them before deleting this preset.")


async def delete(db: AsyncSession, app_id: str, preset_id: str) -> Preset:
    preset = await get(db, app_id, preset_id)
    name = preset.name
    conflict = await _in_use(db, preset.id, name)
    if conflict is not None:
        raise conflict
    await db.delete(preset)
    try:
        await db.commit()
    except IntegrityError:
        # A participant was added with this preset after the check (PostgreSQL sees the
        # foreign key at commit): the same answer as when the check catches it.
        await db.rollback()
        raise (await _in_use(db, preset_id, name)
               or Conflict(f"Preset '{name}' is still used by participants.")) from None
    return preset


async def list_page(
    db: AsyncSession, app_id: str, page: Page, *, search: str | None = None
) -> tuple[list[Preset], int]:
    query = select(Preset).where(Preset.app_id == app_id)
    if search:
        query = query.where(func.lower(Preset.name).contains(search.lower(), autoescape=True))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(
        query.order_by(Preset.created_at.desc(), Preset.name).offset(page.offset).limit(page.per_page)
    )
    return list(rows), total
