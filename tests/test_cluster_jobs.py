"""Jobs in a cluster (docs/cluster.md, "Jobs"), on a real PostgreSQL and a real Redis:
a job claimed by a live node stays with it when another node starts, and the jobs of a
node whose registry entry is gone are taken over — queued ones run again elsewhere,
running ones of a session nobody carries on end ERRORED, keeping what their killed
recorder wrote (tests/test_cluster_recording_failover.py: a session carried on).

A dead node is either a real server killed with SIGKILL, or a registry entry that
stops beating (`kill`: exactly what SIGKILL leaves in Redis) next to a claim made with
the real claiming code, for states a real server passes through too fast to catch
(a recording claimed but not started yet)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from redis.asyncio import Redis
from sqlalchemy import inspect, select

from salon.cluster.claims import JobClaims
from salon.cluster.registry import Load, NodeRegistry, live_nodes
from salon.core.clock import utcnow
from salon.core.ids import new_uuid
from salon.core.livestreams import StartLivestream
from salon.core.meetings import MeetingSettings
from salon.core.recordings import StartRecording
from salon.livestream.runner import LivestreamRunner, RunnerSettings
from salon.recording.scheduler import RecordingScheduler, SchedulerSettings
from salon.recording.storage import LocalStorage
from salon.services import apps, livestreams, meetings, participant_tokens, recordings
from salon.services.livestreams import Urls
from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from salon.store.migrate import alembic_config
from salon.store.models import (
    App,
    Base,
    Livestream,
    LivestreamSession,
    Meeting,
    Recording,
    Session,
    SessionSummary,
    SessionTranscript,
    WebhookDelivery,
)
from salon.transcription.files import storage_for_deployment
from salon.transcription.jobs import JobSettings, PostMeetingJobs
from salon.transcription.worker import WorkResult
from tests.machines import kill_machine
from tests.servers import ThrowawayPostgres, cleanup, start

REDIS = "redis://127.0.0.1:6379/0"
BEAT = 0.3
FAKE_RECORDER = "tests.fake_recorder:run_recording"


@pytest.fixture
async def database(postgres: ThrowawayPostgres, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated PostgreSQL database with one app, shared by every node of a test."""
    db = Database(Settings(data_dir=tmp_path, database_url=postgres.url))
    try:
        await migrate.upgrade(db)
        async with db.session() as session:
            await apps.bootstrap(session)
        yield db
    finally:
        await db.dispose()


def node_env(cluster: str, node_id: str) -> dict[str, str]:
    return {"SALON_REDIS_URL": REDIS, "SALON_CLUSTER_NAME": cluster, "SALON_NODE_ID": node_id,
            "SALON_NODE_HEARTBEAT_SECS": str(BEAT), "SALON_RECORDER": FAKE_RECORDER,
            "SALON_MEDIA_BACKEND": "none", "SALON_RTMP_PORT": "0"}


@asynccontextmanager
async def node(cluster: str, node_id: str) -> AsyncIterator[NodeRegistry]:
    """A registry entry beating in Redis, as a node's (its jobs are the test's)."""
    registry = NodeRegistry(Redis.from_url(REDIS), cluster, node_id, "http://127.0.0.1:9",
                            lambda: Load(0, 0), heartbeat_secs=BEAT)
    await registry.start()
    try:
        yield registry
    finally:
        await registry.stop()
        await registry.redis.aclose()


async def kill(registry: NodeRegistry) -> None:
    """What SIGKILL leaves: no more beats, the entry left to expire. Returns once the
    cluster no longer lists the node."""
    assert registry._task is not None
    registry._task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await registry._task
    registry._task = None
    assert await until(lambda: _gone(registry), timeout=5)


async def _gone(registry: NodeRegistry) -> bool:
    return registry.node_id not in {n.id for n in await live_nodes(registry.redis,
                                                                   registry.cluster)}


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def app_id_of(database: Database) -> str:
    async with database.session() as db:
        return (await db.scalars(select(App.id).order_by(App.created_at))).first()  # type: ignore[return-value]


async def new_meeting(database: Database) -> str:
    return (await meetings.create(database, await app_id_of(database),
                                  MeetingSettings(title="cluster"))).id


async def new_recording(database: Database) -> str:
    async with database.session() as db:
        row = await recordings.start(db, await app_id_of(database), StartRecording(
            meeting_id=await new_meeting(database), allow_multiple_recordings=True),
            session_id=None)
        return row.id


async def row_of(database: Database, model: Any, key: str) -> Any:
    async with database.session() as db:
        return await db.get(model, key)


# --- recordings ---------------------------------------------------------------------------


async def test_a_recording_stays_with_its_node_and_ends_when_the_node_is_killed(
        cluster: str, postgres: ThrowawayPostgres, database: Database) -> None:
    url = postgres.url
    first = start(url, env=node_env(cluster, "node-a"))
    second = None
    try:
        rid = await new_recording(database)
        recording = await until(lambda: _status(database, rid, "RECORDING"))
        assert recording and recording.claimed_by == "node-a"

        second = start(url, env=node_env(cluster, "node-b"))
        await asyncio.sleep(10 * BEAT)  # node B's start, then a few of its sweeps
        row = await row_of(database, Recording, rid)
        assert (row.status, row.claimed_by) == ("RECORDING", "node-a")

        kill_machine(first.process.pid)  # the node and its recorder, as the machine dies
        first.process.wait()
        # No live session to carry on: the recording ends ERRORED, keeping what node A's
        # killed recorder wrote (its fragmented work file plays; node B reads it: the
        # same machine).
        ended = await until(lambda: _status(database, rid, "ERRORED"))
        assert ended, (await row_of(database, Recording, rid)).status
        assert ended.stop_reason == {"reason": "INTERNAL_ERROR"}
        assert ended.error == "the server stopped while recording"
        assert f"ended recording {rid}, left unfinished" in second.log()
        kept = {f["role"]: f for f in ended.files}
        assert kept["composite"]["duration_secs"] >= 1.0 and ended.recording_duration >= 1
        assert ended.download_url is not None
    finally:
        cleanup(first)
        if second is not None:
            cleanup(second)


async def test_a_node_stopped_with_sigterm_finishes_its_recording_itself(
        cluster: str, postgres: ThrowawayPostgres, database: Database) -> None:
    """A node leaves the cluster only after its recorders stopped and their files were
    stored: the other node must not end the recording ERRORED meanwhile. (With the
    opposite order the other node wins only if its sweep falls in the short window
    of the shutdown, so this guards the outcome more than it catches the race.)"""
    first = start(postgres.url, env=node_env(cluster, "node-a"))
    second = None
    try:
        rid = await new_recording(database)
        recording = await until(lambda: _status(database, rid, "RECORDING"))
        assert recording and recording.claimed_by == "node-a"
        second = start(postgres.url, env=node_env(cluster, "node-b"))
        assert await asyncio.to_thread(first.stop) == 0
        row = await row_of(database, Recording, rid)
        assert (row.status, row.stop_reason) == ("UPLOADED", {"reason": "INTERNAL_ERROR"})
        await asyncio.sleep(10 * BEAT)  # node B's sweeps after node A left
        assert (await row_of(database, Recording, rid)).status == "UPLOADED"
    finally:
        cleanup(first)
        if second is not None:
            cleanup(second)


async def _status(database: Database, rid: str, status: str) -> Recording | None:
    row = await row_of(database, Recording, rid)
    return row if row.status == status else None


async def test_a_queued_claim_of_a_dead_node_is_run_by_another(
        cluster: str, postgres: ThrowawayPostgres, database: Database) -> None:
    async with node(cluster, "node-c") as ghost:
        rid = await new_recording(database)
        async with database.session() as db:
            assert await JobClaims("node-c").claim(db, Recording, Recording.id, rid,
                                                   Recording.status == "INVOKED")
        # In a thread: this event loop keeps node C beating meanwhile.
        second = await asyncio.to_thread(start, postgres.url, env=node_env(cluster, "node-b"))
        try:
            await asyncio.sleep(10 * BEAT)  # node C beats: its claim is left alone
            row = await row_of(database, Recording, rid)
            assert (row.status, row.claimed_by) == ("INVOKED", "node-c")

            await kill(ghost)
            taken = await until(lambda: _status(database, rid, "RECORDING"))
            assert taken and taken.claimed_by == "node-b"
            assert "queued again 1 recording(s) whose node is gone" in second.log()
        finally:
            cleanup(second)


@pytest.fixture
async def scheduler(tmp_path: Path) -> AsyncIterator[RecordingScheduler]:
    """One node without Redis, on SQLite, recording with the test recorder."""
    db = Database(Settings(data_dir=tmp_path))
    await migrate.upgrade(db)
    async with db.session() as session:
        await apps.bootstrap(session)
        signer = await participant_tokens.load_signer(session, 3600)
    settings = SchedulerSettings(max_concurrent=2, recorder=FAKE_RECORDER, data_dir=tmp_path,
                                 gateway_url="ws://127.0.0.1:1/realtime/v1", link_ttl_secs=60)
    running = RecordingScheduler(db, settings, signer, LocalStorage.for_deployment(
        tmp_path, signer.secret, "http://127.0.0.1:1"))
    try:
        yield running
    finally:
        await running.stop()
        await db.dispose()


async def test_one_node_releases_every_claim_at_start(scheduler: RecordingScheduler) -> None:
    rid = await new_recording(scheduler.database)
    async with scheduler.database.session() as db:  # a claim of the previous process
        assert await JobClaims("before-the-restart").claim(db, Recording, Recording.id, rid)
    await scheduler.start()
    taken = await until(lambda: _status(scheduler.database, rid, "RECORDING"))
    assert taken and taken.claimed_by == scheduler.claims.node_id


async def test_a_node_whose_claim_was_taken_over_stops_its_recorder(
        scheduler: RecordingScheduler) -> None:
    """Cut off from Redis long enough, a node is counted dead and its claims go to
    others: once it sees that, it stops recording and leaves the row to the new
    claimer, so the recording is not run twice."""
    await scheduler.start()
    rid = await new_recording(scheduler.database)
    scheduler.wake()
    assert await until(lambda: _status(scheduler.database, rid, "RECORDING"))
    async with scheduler.database.session() as db:
        row = await db.get(Recording, rid)
        row.claimed_by = "another-node"
        await db.commit()
    assert await until(lambda: _true(not scheduler.running), timeout=10)
    row = await row_of(scheduler.database, Recording, rid)
    assert (row.status, row.claimed_by, row.files) == ("RECORDING", "another-node", None)


async def _true(value: bool) -> bool:
    return value


# --- livestreams ----------------------------------------------------------------------------


async def test_livestream_sessions_of_a_dead_node_requeue_or_end(
        cluster: str, database: Database, tmp_path: Path) -> None:
    app_id = await app_id_of(database)
    ghost_claims = JobClaims("node-c")
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
        _, live = await livestreams.start_meeting(
            db, app_id, await new_meeting(database), StartLivestream(), session_id=None)
        _, queued = await livestreams.start_meeting(
            db, app_id, await new_meeting(database), StartLivestream(), session_id=None)
        independent = Livestream(id=new_uuid(), app_id=app_id, meeting_id=None, name="rtmp",
                                 stream_key=livestreams.new_stream_key(), status="INVOKED",
                                 disabled=False, created_at=utcnow(), updated_at=utcnow())
        db.add(independent)
        ingest = LivestreamSession(  # as node C's RTMP ingest makes one
            id=new_uuid(), livestream_id=independent.id, app_id=app_id, status="INVOKED",
            config={"ingest": "rtmp"}, ingest_seconds=0.0, viewer_seconds=0.0,
            invoked_time=utcnow(), updated_at=utcnow(), **ghost_claims.stamp())
        db.add(ingest)
        await db.commit()
        for session in (live, queued):
            assert await ghost_claims.claim(db, LivestreamSession, LivestreamSession.id,
                                            session.id)
        row = await db.get(LivestreamSession, live.id)
        row.status = "LIVE"
        await db.commit()
    async with node(cluster, "node-c") as ghost, node(cluster, "node-b") as registry:
        runner = LivestreamRunner(database, RunnerSettings(
            max_concurrent=2, encoder="", data_dir=tmp_path, gateway_url="ws://127.0.0.1:1",
            urls=Urls("http://127.0.0.1:1", "rtmp://127.0.0.1/live/")), signer,
            claims=JobClaims.for_node(registry))
        await runner.recover(starting=True)  # node B starts; node C is alive
        statuses = {key: await _session(database, key) for key in (live.id, queued.id,
                                                                    ingest.id)}
        assert statuses == {live.id: ("LIVE", "node-c"), queued.id: ("INVOKED", "node-c"),
                            ingest.id: ("INVOKED", "node-c")}

        await kill(ghost)
        await runner.recover()
        # ended by the node that noticed, which took each over first (conditionally)
        assert await _session(database, live.id) == ("ERRORED", "node-b")
        assert await _session(database, ingest.id) == ("ERRORED", "node-b")
        assert await _session(database, queued.id) == ("INVOKED", None)  # queued again


async def _session(database: Database, key: str) -> tuple[str, str | None]:
    row = await row_of(database, LivestreamSession, key)
    return row.status, row.claimed_by


# --- transcripts ------------------------------------------------------------------------------


async def test_a_transcript_of_a_dead_node_is_made_where_its_capture_is(
        cluster: str, database: Database, tmp_path: Path) -> None:
    app_id = await app_id_of(database)
    meeting_id = await new_meeting(database)
    capture = tmp_path / "capture"
    capture.mkdir()  # nobody spoke: an empty transcript, made without the model
    readable, elsewhere = await _ended_session(database, app_id, meeting_id), \
        await _ended_session(database, app_id, meeting_id)
    async with database.session() as db:
        for session_id, directory in ((readable, capture), (elsewhere, tmp_path / "absent")):
            db.add(SessionTranscript(
                id=new_uuid(), app_id=app_id, meeting_id=meeting_id, session_id=session_id,
                status="PROCESSING", capture_dir=str(directory), options={},
                created_at=utcnow(), updated_at=utcnow(), claimed_by="node-c",
                claimed_at=utcnow()))
        await db.commit()
    async with node(cluster, "node-c") as ghost, node(cluster, "node-b") as registry:
        jobs = PostMeetingJobs(database, JobSettings(data_dir=tmp_path),
                               storage_for_deployment(tmp_path, "s" * 32, "http://x"),
                               claims=JobClaims.for_node(registry))
        await jobs.start()
        try:
            await asyncio.sleep(10 * BEAT)
            assert await _transcript(database, readable) == ("PROCESSING", "node-c")
            await kill(ghost)
            assert await until(lambda: _is(database, readable, ("READY", "node-b")))
            # The other capture is on no disk this node reads: released, left waiting.
            assert await _transcript(database, elsewhere) == ("PROCESSING", None)
        finally:
            await jobs.stop()


async def test_a_transcript_whose_job_was_taken_over_meanwhile_is_left_to_the_taker(
        database: Database, tmp_path: Path) -> None:
    """This node ran the worker, but another node took the job over meanwhile (this one
    was cut off): its result commits nothing, sends no webhook and keeps the capture.
    The node that holds the job commits READY with the summary queued (a crash right
    after loses no summary: the takeover runs what is PROCESSING)."""
    app_id = await app_id_of(database)
    meeting_id = await new_meeting(database)
    session_id = await _ended_session(database, app_id, meeting_id)
    capture = tmp_path / "capture"
    capture.mkdir()
    (capture / "segments.jsonl").write_text("")
    async with database.session() as db:
        db.add(SessionTranscript(
            id=new_uuid(), app_id=app_id, meeting_id=meeting_id, session_id=session_id,
            status="PROCESSING", capture_dir=str(capture), options={},
            created_at=utcnow(), updated_at=utcnow(), claimed_by="node-b",
            claimed_at=utcnow()))
        await db.commit()
    out = tmp_path / "out"
    out.mkdir()
    written = {fmt: out / f"transcript.{fmt}" for fmt in ("csv", "json", "srt", "vtt")}
    for path in written.values():
        path.write_text("")
    result = WorkResult(written, line_count=0, tracks=0, skipped=())
    jobs = PostMeetingJobs(database, JobSettings(data_dir=tmp_path),
                           storage_for_deployment(tmp_path, "s" * 32, "http://x"),
                           claims=JobClaims("node-a"))
    assert await jobs._finish_transcript(session_id, result) is False
    assert await _transcript(database, session_id) == ("PROCESSING", "node-b")
    async with database.session() as db:
        assert await db.scalar(select(WebhookDelivery.id)) is None
    assert (capture / "segments.jsonl").exists()
    for path in written.values():  # (stored files are moved: the taker writes its own)
        path.write_text("")
    async with database.session() as db:
        (await db.get(Meeting, meeting_id)).summarize_on_end = True
        await db.commit()
    jobs.claims = JobClaims("node-b")  # the node that holds it finishes it
    assert await jobs._finish_transcript(session_id, result) is True
    assert await _transcript(database, session_id) == ("READY", "node-b")
    async with database.session() as db:  # queued in the same commit as READY
        summary = await db.scalar(select(SessionSummary).where(
            SessionSummary.session_id == session_id))
    assert summary is not None and (summary.status, summary.claimed_by) == (
        "PROCESSING", "node-b")


async def _ended_session(database: Database, app_id: str, meeting_id: str) -> str:
    session_id, now = new_uuid(), utcnow()
    async with database.session() as db:
        db.add(Session(id=session_id, app_id=app_id, meeting_id=meeting_id,
                       meeting_display_name="cluster", type="meeting", status="ENDED",
                       live_participants=0, max_concurrent_participants=1,
                       minutes_consumed=1.0, started_at=now, ended_at=now, last_seen_at=now,
                       created_at=now, updated_at=now))
        await db.commit()
    return session_id


async def _transcript(database: Database, session_id: str) -> tuple[str, str | None]:
    async with database.session() as db:
        row = await db.scalar(select(SessionTranscript).where(
            SessionTranscript.session_id == session_id))
    return row.status, row.claimed_by


async def _is(database: Database, session_id: str, expected: tuple[str, str]) -> bool:
    return await _transcript(database, session_id) == expected


# --- the migration ------------------------------------------------------------------------------

CLAIMED = ("recordings", "livestream_sessions", "session_transcripts", "session_summaries")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_claims_migration_matches_the_models_and_downgrades(
        backend: str, tmp_path: Path) -> None:
    postgres = ThrowawayPostgres() if backend == "postgresql" else None
    db = Database(Settings(data_dir=tmp_path, database_url=postgres.url if postgres else ""))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_round_trip)
    finally:
        await db.dispose()
        if postgres:
            postgres.drop()


def _round_trip(connection: Any) -> None:
    def claim_columns() -> dict[str, set[str]]:
        found = {table: {c["name"] for c in inspect(connection).get_columns(table)}
                 for table in CLAIMED}
        return {table: names & {"claimed_by", "claimed_at"} for table, names in found.items()}

    command.upgrade(alembic_config(connection), "head")
    differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if any(t in repr(d) for t in CLAIMED)] == []
    assert all(names == {"claimed_by", "claimed_at"} for names in claim_columns().values())
    command.downgrade(alembic_config(connection), "0010")
    assert claim_columns() == {"recordings": {"claimed_at"},
                               "livestream_sessions": {"claimed_at"},
                               "session_transcripts": set(), "session_summaries": set()}
    command.upgrade(alembic_config(connection), "head")
    assert all(names == {"claimed_by", "claimed_at"} for names in claim_columns().values())
