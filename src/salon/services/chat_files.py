"""Uploaded chat files: bytes in the file store, metadata in the database.

Only the meeting's participants read a file back, and only through salon; the storage
key is salon's own (`<meeting id>/<file id>`), never derived from the client's name.
"""

import re

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import InvalidRequest, NotFound
from salon.core.ids import new_uuid
from salon.core.schema import BIDI_CONTROLS
from salon.files import FileStore
from salon.store.models import ChatFile

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\\"]+")


def clean_name(name: str) -> str:
    """A display name for the file: its last path part, without control characters and
    without bidirectional controls, which would show another name (or extension)."""
    name = re.split(r"[/\\]", BIDI_CONTROLS.sub("", name).strip())[-1]
    name = _UNSAFE.sub("_", name).strip(" .")[:255]
    if not name:
        raise InvalidRequest("Give the file a name: '?name=photo.png'.")
    return name


async def save(db: AsyncSession, store: FileStore, *, app_id: str, meeting_id: str,
               participant_id: str, name: str, content_type: str, data: bytes) -> ChatFile:
    """Store the bytes, then the row (so a row never points at nothing), and commit.

    Call with a session that has not run anything yet: on SQLite a session holds the
    one connection from its first statement, and writing a large file must not hold it.
    """
    file_id = new_uuid()
    key = f"{meeting_id}/{file_id}"
    await store.put(key, data, content_type)
    row = ChatFile(id=file_id, app_id=app_id, meeting_id=meeting_id,
                   participant_id=participant_id, name=name, content_type=content_type,
                   size=len(data), storage_key=key, created_at=utcnow())
    db.add(row)
    try:
        await db.commit()
    except SQLAlchemyError:
        await store.delete(key)
        raise
    return row


async def get(db: AsyncSession, meeting_id: str, file_id: str) -> ChatFile:
    """A file of this meeting; another meeting's file is as good as absent."""
    row = await db.get(ChatFile, file_id)
    if row is None or row.meeting_id != meeting_id:
        raise NotFound(f"No file {file_id} in this meeting.")
    return row
