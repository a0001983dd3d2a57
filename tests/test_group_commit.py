"""Group commit (salon.store.group_commit): the adds a node has waiting go to
PostgreSQL as one statement, and each request still gets its own answer — the 201s,
and a 404, 400 or 409 for the one row of a batch that could not be written."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from salon.core.errors import Conflict, InvalidRequest, NotFound
from salon.core.meetings import MeetingSettings
from salon.core.participants import NewParticipant
from salon.services import apps, meetings, participants
from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from salon.store.group_commit import GroupCommit
from tests.servers import ThrowawayPostgres


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[Database]:
    throwaway = ThrowawayPostgres()
    database = Database(Settings(data_dir=tmp_path, database_url=throwaway.url))
    try:
        await migrate.upgrade(database)
        yield database
    finally:
        await database.dispose()
        throwaway.drop()


def person(custom_id: str, preset: str = "group_call_host") -> NewParticipant:
    return NewParticipant(custom_participant_id=custom_id, preset_name=preset,
                          name=f"name {custom_id}")


async def test_concurrent_adds_share_statements_and_each_gets_its_answer(
        postgres: Database) -> None:
    async with postgres.session() as db:
        account = await apps.create_account(db)
        app = await apps.create(db, account.id, "grouped")
        app_id = app.id
    meeting_id = (await meetings.create(postgres, app_id, MeetingSettings())).id
    other = (await meetings.create(postgres, app_id, MeetingSettings())).id

    adds = [participants.add(postgres, app_id, meeting_id if i % 2 else other,
                             person(f"p{i}")) for i in range(40)]
    adds += [participants.add(postgres, app_id, meeting_id, person("p1")),  # taken
             participants.add(postgres, app_id, meeting_id, person("x", "no_such")),
             participants.add(postgres, app_id, "0" * 36, person("y"))]
    answers = await asyncio.gather(*adds, return_exceptions=True)

    added = answers[:40]
    assert [a for a in added if isinstance(a, BaseException)] == []
    assert len({a.id for a in added}) == 40
    assert [a.custom_participant_id for a in added] == [f"p{i}" for i in range(40)]
    taken, no_preset, no_meeting = answers[40:]
    assert isinstance(taken, Conflict) and "'p1'" in str(taken)
    assert isinstance(no_preset, InvalidRequest) and "no_such" in str(no_preset)
    assert isinstance(no_meeting, NotFound)

    group = participants._GROUPS[postgres]
    assert group.items == 43 and group.batches < 10  # the first alone, then together
    async with postgres.session() as db:
        for answer in added:
            row, preset = await participants.get(db, app_id, answer.meeting_id, answer.id)
            assert (row.custom_participant_id, row.name, preset.name) == (
                answer.custom_participant_id, answer.name, "group_call_host")
            assert row.created_at == answer.created_at

    # the same custom id twice in one batch: the first is written, the second is a 409
    first, second = await asyncio.gather(
        participants.add(postgres, app_id, other, person("twice")),
        participants.add(postgres, app_id, other, person("twice")), return_exceptions=True)
    assert not isinstance(first, BaseException) and isinstance(second, Conflict)


async def test_a_failed_batch_fails_each_of_its_requests_and_the_next_goes_on() -> None:
    calls: list[list[int]] = []

    async def write(batch: list[int]) -> list[int]:
        calls.append(batch)
        await asyncio.sleep(0.01)
        if 13 in batch:
            raise OSError("the database went away")
        return [item * 2 for item in batch]

    group: GroupCommit[int, int] = GroupCommit(write, max_batch=4)
    answers = await asyncio.gather(*(group.submit(i) for i in range(10, 20)),
                                   return_exceptions=True)
    assert [item for batch in calls for item in batch] == list(range(10, 20))
    assert all(len(batch) <= 4 for batch in calls) and len(calls) == 3
    failed = next(batch for batch in calls if 13 in batch)
    for item, answer in zip(range(10, 20), answers, strict=True):
        if item in failed:
            assert isinstance(answer, OSError)
        else:
            assert answer == item * 2
    assert await group.submit(1) == 2  # the group carries on


async def test_a_cancelled_writer_leaves_nobody_waiting() -> None:
    started = asyncio.Event()

    async def write(batch: list[int]) -> list[int]:
        started.set()
        await asyncio.sleep(10)
        return batch

    group: GroupCommit[int, int] = GroupCommit(write)
    waiting = [asyncio.ensure_future(group.submit(i)) for i in range(3)]
    await started.wait()
    late = asyncio.ensure_future(group.submit(99))
    await asyncio.sleep(0)
    assert group._writer is not None
    group._writer.cancel()
    answers = await asyncio.gather(*waiting, late, return_exceptions=True)
    assert all(isinstance(a, asyncio.CancelledError) for a in answers)
