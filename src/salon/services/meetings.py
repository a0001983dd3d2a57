"""Meetings of an app: create, read, list with filters, PATCH and PUT."""

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core import meetings as schema
from salon.core.clock import shown_until, utcnow
from salon.core.errors import NotFound
from salon.core.ids import new_uuid
from salon.core.paging import Page
from salon.store.database import Database
from salon.store.models import Meeting


def _apply(meeting: Meeting, settings: schema.MeetingSettings) -> None:
    values = settings.model_dump(mode="json")
    for name in Meeting.SETTINGS:
        setattr(meeting, name, values[name])


_INSERT = insert(Meeting.__table__).returning(*Meeting.__table__.c)


async def create(database: Database, app_id: str, settings: schema.MeetingSettings) -> Row[Any]:
    """A new meeting, as the plain row stored: one Core INSERT … RETURNING, as the ORM's
    unit of work cost several times the SQL."""
    now = utcnow()
    values = settings.model_dump(mode="json", include=set(Meeting.SETTINGS))
    values.update(id=new_uuid(), app_id=app_id, status="ACTIVE", parent_meeting_id=None,
                  created_at=now, updated_at=now)
    return await database.run_alone(lambda connection: connection.execute(_INSERT, values).one())


async def get(db: AsyncSession, app_id: str, meeting_id: str, *,
              lock: bool = False) -> Meeting:
    """The app's meeting (404 otherwise). `lock`: read it `FOR NO KEY UPDATE`, which on
    PostgreSQL holds off whoever else locks it so until this transaction ends (on SQLite
    every write transaction is `BEGIN IMMEDIATE`, serialized already): two starts of a
    recording or a livestream at once then take turns, and the second sees the first's
    row. Adding participants (a foreign key's `KEY SHARE`) is not held up."""
    if lock:
        meeting = await db.scalar(select(Meeting).where(Meeting.id == meeting_id)
                                  .with_for_update(key_share=True)
                                  .execution_options(populate_existing=True))
    else:
        meeting = await db.get(Meeting, meeting_id)
    if meeting is None or meeting.app_id != app_id:
        raise NotFound(f"Meeting {meeting_id} not found.")
    return meeting


_BY_ID = select(Meeting.__table__).where(Meeting.id == bindparam("meeting_id"),
                                         Meeting.app_id == bindparam("app_id"))


async def read(database: Database, app_id: str, meeting_id: str) -> Row[Any]:
    """The meeting as a plain row (the columns, no ORM object): for GET, where the ORM
    session's identity map and state tracking cost more than the query."""
    values = {"meeting_id": meeting_id, "app_id": app_id}
    row = await database.run_alone(lambda connection: connection.execute(_BY_ID, values).first())
    if row is None:
        raise NotFound(f"Meeting {meeting_id} not found.")
    return row


async def update(db: AsyncSession, app_id: str, meeting_id: str, patch: dict[str, Any]) -> Meeting:
    """PATCH: nested configs merge, other fields replace, `status` may flip."""
    meeting = await get(db, app_id, meeting_id)
    merged = schema.patched({**meeting.settings(), "status": meeting.status}, patch)
    _apply(meeting, merged)
    meeting.status = merged.status
    meeting.updated_at = utcnow()
    await db.commit()
    return meeting


async def replace(
    db: AsyncSession, app_id: str, meeting_id: str, settings: schema.MeetingSettings
) -> Meeting:
    """PUT: every setting from the body or its default. `status` is not a setting: it stays."""
    meeting = await get(db, app_id, meeting_id)
    _apply(meeting, settings)
    meeting.updated_at = utcnow()
    await db.commit()
    return meeting


async def list_page(
    db: AsyncSession,
    app_id: str,
    page: Page,
    *,
    search: str | None = None,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    status: str | None = None,
) -> tuple[list[Meeting], int]:
    """Newest first. `search` matches the id exactly or the title as a substring."""
    query = select(Meeting).where(Meeting.app_id == app_id)
    if search:
        query = query.where(
            or_(
                Meeting.id == search,
                func.lower(Meeting.title).contains(search.lower(), autoescape=True),
            )
        )
    if start_time is not None:
        query = query.where(Meeting.created_at >= start_time)
    if end_time is not None:
        query = query.where(Meeting.created_at < shown_until(end_time))
    if status is not None:
        query = query.where(Meeting.status == status)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(
        query.order_by(Meeting.created_at.desc(), Meeting.id)
        .offset(page.offset)
        .limit(page.per_page)
    )
    return list(rows), total
