"""Connected meetings in the database: a parent's children, and seats in them.

A child is an ordinary meeting (M1 lists it, it has its own sessions, chat and polls)
whose `parent_meeting_id` names its parent; one level only. It starts with the parent's
settings and its own title. Deleting a child detaches it and makes it INACTIVE rather
than removing the row, so its sessions, chat and polls stay readable.

A peer moved into a meeting needs a participant there: `seat` finds the one with the
same `custom_participant_id` or adds it, so a person is one participant per room and
S3 `view=consolidated` can add up their minutes across rooms.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import Conflict, InvalidRequest, NotFound
from salon.core.ids import new_uuid
from salon.core.room.connected import MAX_CHILDREN
from salon.services import meetings, presets
from salon.services.participants import Admitted
from salon.store.models import Meeting, Participant


@dataclass(frozen=True)
class Family:
    """A parent meeting and its children, oldest child first."""

    parent: Meeting
    children: list[Meeting]


async def family(db: AsyncSession, app_id: str, meeting_id: str) -> Family:
    """The family a meeting belongs to, as parent or as child (NotFound if unknown)."""
    meeting = await meetings.get(db, app_id, meeting_id)
    if meeting.parent_meeting_id is not None:
        meeting = await meetings.get(db, app_id, meeting.parent_meeting_id)
    children = list(await db.scalars(
        select(Meeting).where(Meeting.parent_meeting_id == meeting.id)
        .order_by(Meeting.created_at, Meeting.id)))
    return Family(meeting, children)


async def parent_of(db: AsyncSession, app_id: str, meeting_id: str) -> Family:
    """The family of a meeting that must itself be a parent (not a child)."""
    meeting = await meetings.get(db, app_id, meeting_id)
    if meeting.parent_meeting_id is not None:
        raise Conflict(f"Meeting {meeting_id} is itself a connected meeting of "
                       f"{meeting.parent_meeting_id}; rooms nest one level only.")
    return await family(db, app_id, meeting_id)


async def create(db: AsyncSession, app_id: str, parent_id: str,
                 titles: list[str | None]) -> list[Meeting]:
    found = await parent_of(db, app_id, parent_id)
    if not titles:
        raise InvalidRequest("Give at least one meeting to create.")
    if len(found.children) + len(titles) > MAX_CHILDREN:
        raise Conflict(f"A meeting has at most {MAX_CHILDREN} connected meetings; it has "
                       f"{len(found.children)}.")
    parent, now = found.parent, utcnow()
    created = []
    for index, title in enumerate(titles):
        # a microsecond apart: rooms list in the order they were asked for
        at = now + timedelta(microseconds=index)
        child = Meeting(id=new_uuid(), app_id=app_id, status="ACTIVE",
                        parent_meeting_id=parent.id, created_at=at, updated_at=at)
        for name in Meeting.SETTINGS:
            setattr(child, name, getattr(parent, name))
        child.title = title
        db.add(child)
        created.append(child)
    await db.commit()
    return created


async def child(db: AsyncSession, app_id: str, parent_id: str, child_id: str) -> Meeting:
    found = await parent_of(db, app_id, parent_id)
    for meeting in found.children:
        if meeting.id == child_id:
            return meeting
    raise NotFound(f"Meeting {parent_id} has no connected meeting {child_id}.")


async def _children(db: AsyncSession, app_id: str, parent_id: str,
                    child_ids: Iterable[str]) -> dict[str, Meeting]:
    """The parent's children by id, once every id in `child_ids` is one of them."""
    found = await parent_of(db, app_id, parent_id)
    by_id = {m.id: m for m in found.children}
    unknown = [i for i in child_ids if i not in by_id]
    if unknown:
        raise NotFound(f"Meeting {parent_id} has no connected meeting {unknown[0]}.")
    return by_id


async def rename(db: AsyncSession, app_id: str, parent_id: str,
                 titles: dict[str, str | None]) -> list[Meeting]:
    """Rename children; all or nothing (an unknown id changes none)."""
    by_id = await _children(db, app_id, parent_id, titles)
    now = utcnow()
    for child_id, title in titles.items():
        by_id[child_id].title = title
        by_id[child_id].updated_at = now
    await db.commit()
    return [by_id[i] for i in titles]


async def delete(db: AsyncSession, app_id: str, parent_id: str,
                 child_ids: list[str]) -> list[str]:
    """Detach children and make them INACTIVE (all or nothing); returns their ids."""
    by_id = await _children(db, app_id, parent_id, child_ids)
    now = utcnow()
    for child_id in dict.fromkeys(child_ids):
        meeting = by_id[child_id]
        meeting.parent_meeting_id = None
        meeting.status = "INACTIVE"
        meeting.updated_at = now
    await db.commit()
    return list(dict.fromkeys(child_ids))


async def seat(db: AsyncSession, app_id: str, meeting_id: str, custom_participant_id: str,
               name: str | None, picture: str | None, preset_name: str) -> Admitted:
    """The participant of `custom_participant_id` in a meeting, added if missing, with
    `preset_name` (changed if it had another). What a moved peer joins as."""
    meeting = await meetings.get(db, app_id, meeting_id)
    preset = await presets.by_name(db, app_id, preset_name)
    participant = await db.scalar(select(Participant).where(
        Participant.meeting_id == meeting_id,
        Participant.custom_participant_id == custom_participant_id))
    now = utcnow()
    if participant is None:
        participant = Participant(
            id=new_uuid(), app_id=app_id, meeting_id=meeting_id, preset_id=preset.id,
            custom_participant_id=custom_participant_id, name=name, picture=picture,
            token_version=1, created_at=now, updated_at=now)
        db.add(participant)
    elif participant.preset_id != preset.id:
        participant.preset_id = preset.id
        participant.updated_at = now
    try:
        await db.commit()
    except IntegrityError:  # added at the same moment by another move: use that one
        await db.rollback()
        participant = await db.scalar(select(Participant).where(
            Participant.meeting_id == meeting_id,
            Participant.custom_participant_id == custom_participant_id))
        if participant is None:
            raise
    return Admitted(participant, meeting, preset)
