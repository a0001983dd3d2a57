"""A recording whose recorder's node died, between the nodes that may take it over
(docs/cluster.md "Recordings go on"), on a real PostgreSQL and a real Redis: the node
that runs its meeting carries it on, a sweeping node ends it ERRORED, and the claim's
compare-and-set lets exactly one of them act. The schedulers are real (the test
recorder runs in real processes); the dead node is a claim by a node id the registry
does not list."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select

from salon.cluster.claims import JobClaims
from salon.cluster.registry import Load, NodeRegistry
from salon.core.clock import utcnow
from salon.core.ids import new_uuid
from salon.core.meetings import MeetingSettings
from salon.core.recordings import StartRecording
from salon.recording.scheduler import RecordingScheduler, SchedulerSettings
from salon.recording.storage import LocalStorage
from salon.services import meetings, participant_tokens, recordings
from salon.store.database import Database
from salon.store.models import App, Recording, Session
from tests import test_cluster_jobs
from tests.test_recording_parts import finished_recording

REDIS = "redis://127.0.0.1:6379/0"
FAKE_RECORDER = "tests.fake_recorder:run_recording"


#: The migrated PostgreSQL database with one app that a test's nodes share (a fixture).
database = test_cluster_jobs.database


@asynccontextmanager
async def scheduler_of(database: Database, cluster: str, node_id: str, data_dir: Path,
                       live_session: Callable[[str], str | None] | None = None,
                       ) -> AsyncIterator[RecordingScheduler]:
    """Node `node_id`'s recording scheduler (not started: the test calls `recover`),
    the node beating in the registry."""
    redis = Redis.from_url(REDIS)
    registry = NodeRegistry(redis, cluster, node_id, "http://127.0.0.1:9",
                            lambda: Load(0, 0), heartbeat_secs=0.3)
    await registry.start()
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    settings = SchedulerSettings(max_concurrent=4, recorder=FAKE_RECORDER, data_dir=data_dir,
                                 gateway_url="ws://127.0.0.1:1/realtime/v1", link_ttl_secs=60)
    scheduler = RecordingScheduler(
        database, settings, signer,
        LocalStorage.for_deployment(data_dir, signer.secret, "http://127.0.0.1:1"),
        claims=JobClaims(node_id, redis, cluster, sweep_secs=1.0))
    if live_session is not None:
        scheduler.live_session = live_session
    try:
        yield scheduler
    finally:
        await scheduler.stop()
        await registry.stop()
        await redis.aclose()


async def recording_of_a_dead_node(database: Database, session_id: str | None = None,
                                   status: str = "RECORDING") -> Recording:
    """A recording that node `dead-node` (listed nowhere) claimed and was recording."""
    async with database.session() as db:
        app_id = await db.scalar(select(App.id).order_by(App.created_at).limit(1))
        assert app_id is not None
    meeting = await meetings.create(database, app_id, MeetingSettings(title="carried"))
    async with database.session() as db:
        row = await recordings.start(db, app_id, StartRecording(meeting_id=meeting.id),
                                     session_id=session_id)
        assert await JobClaims("dead-node").claim(db, Recording, Recording.id, row.id)
        row = await db.get(Recording, row.id)
        assert row is not None
        row.status, row.started_time = status, utcnow()
        await db.commit()
        return row


async def live_session_of(database: Database, meeting_id: str, app_id: str) -> str:
    """A LIVE session of the meeting, as a node that died running it left it."""
    now = utcnow()
    async with database.session() as db:
        session = Session(id=new_uuid(), app_id=app_id, meeting_id=meeting_id, status="LIVE",
                          started_at=now, last_seen_at=now, created_at=now, updated_at=now)
        db.add(session)
        await db.commit()
        return session.id


async def swept(scheduler: RecordingScheduler, starting: bool = False) -> None:
    """A sweep, and the endings it started (each a task of its own)."""
    await scheduler.recover(starting=starting)
    await asyncio.gather(*scheduler.ending.values())


async def row_of(database: Database, rid: str) -> Recording:
    async with database.session() as db:
        row = await db.get(Recording, rid)
        assert row is not None
        return row


async def test_a_sweep_and_the_meeting_s_node_race_and_exactly_one_takes_it(
        cluster: str, database: Database, tmp_path: Path) -> None:
    rows = [await recording_of_a_dead_node(database) for _ in range(4)]
    meetings_here = {row.meeting_id: "the-carried-on-session" for row in rows}
    async with scheduler_of(database, cluster, "sweeper", tmp_path / "sweeper") as sweeper, \
            scheduler_of(database, cluster, "adopter", tmp_path / "adopter",
                         live_session=meetings_here.get) as adopter:
        # Both nodes at once: the sweeper would end them, the adopter carry them on.
        await asyncio.gather(swept(sweeper), swept(adopter))
        carried = set(adopter.running)
        for row in rows:
            after = await row_of(database, row.id)
            if row.id in carried:
                assert (after.status, after.claimed_by) == ("RECORDING", "adopter")
            else:
                assert (after.status, after.claimed_by) == ("ERRORED", "sweeper"), after.id
                assert after.error == "the server stopped while recording"
        # Exactly one of them acted on each: a carried-on one was never ended, and the
        # sweeper ended only what it had claimed.
        assert len(carried) + len([r for r in rows if r.id not in carried]) == len(rows)
        again = await asyncio.gather(*(adopter.carry_on(row.meeting_id,
                                                        "the-carried-on-session")
                                       for row in rows))
        assert again == [0] * len(rows)
        assert set(adopter.running) <= carried  # nothing more started


async def test_two_nodes_carrying_the_same_recording_on_start_one_recorder(
        cluster: str, database: Database, tmp_path: Path) -> None:
    row = await recording_of_a_dead_node(database, status="PAUSED")
    here = {row.meeting_id: "the-carried-on-session"}.get
    async with scheduler_of(database, cluster, "one", tmp_path / "one", here) as one, \
            scheduler_of(database, cluster, "two", tmp_path / "two", here) as two:
        waiting = await asyncio.gather(one.carry_on(row.meeting_id, "the-carried-on-session"),
                                       two.carry_on(row.meeting_id, "the-carried-on-session"))
        winners = [s for s in (one, two) if row.id in s.running]
        assert len(winners) == 1
        after = await row_of(database, row.id)
        assert (after.status, after.claimed_by) == ("PAUSED", winners[0].claims.node_id)
        loser = two if winners[0] is one else one
        assert waiting[[one, two].index(loser)] == 1  # claimed by a node it sees alive


async def test_a_sweep_leaves_a_recording_whose_session_may_be_carried_on(
        cluster: str, database: Database, tmp_path: Path) -> None:
    row = await recording_of_a_dead_node(database)
    session_id = await live_session_of(database, row.meeting_id, row.app_id)
    async with database.session() as db:
        (await db.get(Recording, row.id)).session_id = session_id  # type: ignore[union-attr]
        await db.commit()
    async with scheduler_of(database, cluster, "sweeper", tmp_path / "sweeper") as sweeper:
        await swept(sweeper)
        after = await row_of(database, row.id)
        assert (after.status, after.claimed_by) == ("RECORDING", "dead-node")
        async with database.session() as db:  # nobody came back: the session ends
            (await db.get(Session, session_id)).status = "ENDED"  # type: ignore[union-attr]
            await db.commit()
        await swept(sweeper)
        after = await row_of(database, row.id)
        assert (after.status, after.claimed_by) == ("ERRORED", "sweeper")


async def test_a_sweep_ends_a_recording_without_session_only_once_its_meeting_is_over(
        cluster: str, database: Database, tmp_path: Path) -> None:
    row = await recording_of_a_dead_node(database)  # no session_id: the meeting's LIVE one
    session_id = await live_session_of(database, row.meeting_id, row.app_id)
    async with scheduler_of(database, cluster, "sweeper", tmp_path / "sweeper") as sweeper:
        await swept(sweeper)
        after = await row_of(database, row.id)
        assert (after.status, after.claimed_by) == ("RECORDING", "dead-node")
        async with database.session() as db:
            (await db.get(Session, session_id)).status = "ENDED"  # type: ignore[union-attr]
            await db.commit()
        await swept(sweeper)
        after = await row_of(database, row.id)
        assert (after.status, after.claimed_by) == ("ERRORED", "sweeper")


async def test_taking_over_this_node_s_own_stale_claim_is_exclusive(
        database: Database) -> None:
    row = await recording_of_a_dead_node(database)
    async with database.session() as db:  # an earlier process with the same node id
        (await db.get(Recording, row.id)).claimed_by = "same"  # type: ignore[union-attr]
        await db.commit()
    row = await row_of(database, row.id)
    won = []
    for _ in range(2):  # the adoption hook and a sweep, say
        async with database.session() as db:
            won.append(await JobClaims("same").take_over(
                db, Recording, Recording.id, row.id, "same", row.claimed_at))
    assert won == [True, False]


async def test_carrying_on_this_node_s_own_recording_starts_one_recorder(
        cluster: str, database: Database, tmp_path: Path) -> None:
    row = await recording_of_a_dead_node(database)
    async with database.session() as db:  # left by an earlier process with this node's id
        stale = await db.get(Recording, row.id)
        assert stale is not None
        stale.claimed_by, stale.claimed_at = "same", utcnow() - timedelta(minutes=1)
        await db.commit()
    here = {row.meeting_id: "the-carried-on-session"}.get
    async with scheduler_of(database, cluster, "same", tmp_path / "same", here) as node:
        launched: list[str] = []
        launch = node._launch
        node._launch = lambda rid, carried=False: (  # type: ignore[method-assign]
            launched.append(rid), launch(rid, carried))[-1]
        await asyncio.gather(node.carry_on(row.meeting_id, "the-carried-on-session"),
                             node.recover(starting=True), node.recover())
        assert launched == [row.id]


async def test_a_carried_recording_whose_new_recorder_fails_keeps_the_earlier_part(
        cluster: str, database: Database, tmp_path: Path) -> None:
    row = await recording_of_a_dead_node(database)
    async with scheduler_of(database, cluster, "adopter", tmp_path / "adopter") as adopter:
        work = tmp_path / "adopter" / "recordings" / "work" / row.id
        work.mkdir(parents=True)
        await asyncio.to_thread(finished_recording, work, 2.0)  # what the dead one wrote
        async with database.session() as db:
            assert await adopter.claims.take_over(db, Recording, Recording.id, row.id,
                                                  "dead-node", row.claimed_at)

        async def broken(recording_id: str) -> Any:
            raise RuntimeError("no recorder today")

        adopter._spec = broken  # type: ignore[method-assign]
        await adopter._run(row.id, carried=True)
        after = await row_of(database, row.id)
        assert after.status == "ERRORED"
        assert after.error == "RuntimeError: no recorder today"
        assert after.download_url and after.files, after.files
        assert after.recording_duration and after.recording_duration >= 1
