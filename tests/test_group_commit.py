"""Group commit (salon.store.group_commit): the adds a node has waiting go to
PostgreSQL as one statement, and each request still gets its own answer — the 201s,
and a 404, 400 or 409 for the one row of a batch that could not be written."""

import asyncio

import pytest
from sqlalchemy import text

from salon.core.errors import Conflict, InvalidRequest, NotFound
from salon.core.meetings import MeetingSettings
from salon.core.paging import Page
from salon.core.participants import NewParticipant
from salon.core.presets import PresetBody
from salon.services import apps, meetings, participants, presets
from salon.store.database import Database
from salon.store.group_commit import GroupCommit


def person(custom_id: str, preset: str = "group_call_host") -> NewParticipant:
    return NewParticipant(custom_participant_id=custom_id, preset_name=preset,
                          name=f"name {custom_id}")


async def test_concurrent_adds_share_statements_and_each_gets_its_answer(
        postgres_database: Database) -> None:
    async with postgres_database.session() as db:
        account = await apps.create_account(db)
        app = await apps.create(db, account.id, "grouped")
        app_id = app.id
    meeting_id = (await meetings.create(postgres_database, app_id, MeetingSettings())).id
    other = (await meetings.create(postgres_database, app_id, MeetingSettings())).id

    adds = [participants.add(postgres_database, app_id, meeting_id if i % 2 else other,
                             person(f"p{i}")) for i in range(40)]
    adds += [participants.add(postgres_database, app_id, meeting_id, person("p1")),  # taken
             participants.add(postgres_database, app_id, meeting_id, person("x", "no_such")),
             participants.add(postgres_database, app_id, "0" * 36, person("y"))]
    answers = await asyncio.gather(*adds, return_exceptions=True)

    added = answers[:40]
    assert [a for a in added if isinstance(a, BaseException)] == []
    assert len({a.id for a in added}) == 40
    assert [a.custom_participant_id for a in added] == [f"p{i}" for i in range(40)]
    taken, no_preset, no_meeting = answers[40:]
    assert isinstance(taken, Conflict) and "'p1'" in str(taken)
    assert isinstance(no_preset, InvalidRequest) and "no_such" in str(no_preset)
    assert isinstance(no_meeting, NotFound)

    group = postgres_database.group_commits["participants"]
    assert group.items == 43 and group.batches < 10  # the first alone, then together
    async with postgres_database.session() as db:
        for answer in added:
            row, preset = await participants.get(db, app_id, answer.meeting_id, answer.id)
            assert (row.custom_participant_id, row.name, preset.name) == (
                answer.custom_participant_id, answer.name, "group_call_host")
            assert row.created_at == answer.created_at

    # the same custom id twice in one batch: the first is written, the second is a 409
    first, second = await asyncio.gather(
        participants.add(postgres_database, app_id, other, person("twice")),
        participants.add(postgres_database, app_id, other, person("twice")), return_exceptions=True)
    assert not isinstance(first, BaseException) and isinstance(second, Conflict)


async def test_a_batch_broken_by_one_row_is_written_one_add_at_a_time(
        postgres_database: Database) -> None:
    """A preset deleted by a transaction still open when the batch runs: its row breaks
    the foreign key at the delete's commit, which fails the statement; the batch is then
    written one add at a time, so only that add fails (as it would have alone)."""
    async with postgres_database.session() as db:
        account = await apps.create_account(db)
        app_id = (await apps.create(db, account.id, "fk")).id
        preset_id = (await presets.create(db, app_id, PresetBody(name="doomed"))).id
    meeting_id = (await meetings.create(postgres_database, app_id, MeetingSettings())).id
    await participants.add(postgres_database, app_id, meeting_id, person("warm"))
    async with postgres_database.engine.connect() as deleting:
        await deleting.execute(text("DELETE FROM presets WHERE id = :id"), {"id": preset_id})
        adds = [asyncio.ensure_future(participants.add(
            postgres_database, app_id, meeting_id, person(f"p{i}", "doomed" if i == 0 else
                                                 "group_call_host"))) for i in range(5)]
        await asyncio.sleep(0.5)  # the batch waits on the deleted row's lock
        await deleting.commit()
    answers = await asyncio.gather(*adds, return_exceptions=True)
    assert isinstance(answers[0], InvalidRequest) and "doomed" in str(answers[0])
    assert [a.custom_participant_id for a in answers[1:]] == ["p1", "p2", "p3", "p4"]
    async with postgres_database.session() as db:
        listed, total = await participants.list_page(db, app_id, meeting_id,
                                                     Page(page_no=1, per_page=10))
    assert total == 5 and {p.custom_participant_id for p, _ in listed} == {
        "warm", "p1", "p2", "p3", "p4"}


async def test_a_request_that_gave_up_while_waiting_is_not_written() -> None:
    release = asyncio.Event()
    written: list[list[str]] = []

    async def write(batch: list[str]) -> list[bool | Exception]:
        written.append(batch)
        await release.wait()
        return [ValueError(f"no {item}") if item == "bad" else True for item in batch]

    group: GroupCommit[str, bool] = GroupCommit(write)
    first = asyncio.ensure_future(group.submit("first"))
    await asyncio.sleep(0)  # its batch is in flight
    waiting = {item: asyncio.ensure_future(group.submit(item)) for item in ("a", "b", "bad")}
    await asyncio.sleep(0)
    waiting["b"].cancel()  # its client went away
    release.set()
    assert await first is True and await waiting["a"] is True
    with pytest.raises(ValueError, match="no bad"):  # an answer of its own
        await waiting["bad"]
    assert written == [["first"], ["a", "bad"]]


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
