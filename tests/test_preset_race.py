"""Deleting a preset while a participant is added with it, on PostgreSQL: 409, not 500.

The in-use check and the delete are two statements; a participant committed between them
meets the foreign key at commit. The interleaving is forced here: the check runs, then a
second connection adds the participant, then the delete is flushed and committed.
"""

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.errors import Conflict
from salon.core.meetings import MeetingSettings
from salon.core.participants import NewParticipant
from salon.core.presets import PresetBody
from salon.services import apps, meetings, participants, presets
from salon.store.database import Database


async def test_a_participant_added_during_delete_makes_it_a_409(
        postgres_database: Database) -> None:
    async with postgres_database.session() as db:
        account = await apps.create_account(db)
        app = await apps.create(db, account.id, "race")
        preset = await presets.create(db, app.id, PresetBody(name="racing"))
        app_id, preset_id = app.id, preset.id
    meeting_id = (await meetings.create(postgres_database, app_id, MeetingSettings())).id

    added: list[bool] = []

    class SomeoneAddsBeforeTheDelete:
        """The request's session, except that a participant is committed elsewhere
        between the in-use check and the delete."""

        def __init__(self, db: AsyncSession) -> None:
            self.db = db

        def __getattr__(self, name: str) -> Any:
            return getattr(self.db, name)

        async def delete(self, row: Any) -> None:
            await participants.add(postgres_database, app_id, meeting_id, NewParticipant(
                custom_participant_id="late", preset_name="racing"))
            added.append(True)
            await self.db.delete(row)

    async with postgres_database.session() as db:
        with pytest.raises(Conflict) as refused:
            await presets.delete(SomeoneAddsBeforeTheDelete(db),  # type: ignore[arg-type]
                                 app_id, preset_id)
    assert added and "racing" in refused.value.message
    assert "still used by 1 participant" in refused.value.message
    async with postgres_database.session() as db:
        assert (await presets.get(db, app_id, preset_id)).name == "racing"
