"""The scheduler in-process, on a real database and the test recorder: a recording
reaching its `max_seconds` stops by itself (MAX_SECONDS) and is stored, and the
scheduler's shutdown finalizes what is recording. (`max_seconds` is at least 60 over the
API; here the row is written directly with 1 s.)"""

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from salon.core.errors import Unauthorized
from salon.core.meetings import MeetingSettings
from salon.core.recordings import StartRecording
from salon.recording.scheduler import RecordingScheduler, SchedulerSettings
from salon.recording.storage import LocalStorage
from salon.services import apps, meetings, participant_tokens, participants, recordings
from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from salon.store.models import App, Participant, Recording
from tests.recording_helpers import media_seconds


@pytest.fixture
async def scheduler(tmp_path: Path) -> AsyncIterator[tuple[RecordingScheduler, str, str]]:
    database = Database(Settings(data_dir=tmp_path))
    await migrate.upgrade(database)
    async with database.session() as db:
        await apps.bootstrap(db)
        app_id = (await db.scalars(select(App.id))).one()
        signer = await participant_tokens.load_signer(db, 3600)
    meeting = await meetings.create(database, app_id, MeetingSettings(title="in-process"))
    settings = SchedulerSettings(
        max_concurrent=2, recorder="tests.fake_recorder:run_recording", data_dir=tmp_path,
        gateway_url="ws://127.0.0.1:1/realtime/v1", link_ttl_secs=60)
    storage = LocalStorage.for_deployment(tmp_path, signer.secret, "http://127.0.0.1:1")
    running = RecordingScheduler(database, settings, signer, storage)
    await running.start()
    try:
        yield running, app_id, meeting.id
    finally:
        await running.stop()
        await database.dispose()


async def _start(scheduler: RecordingScheduler, app_id: str, meeting_id: str,
                 max_seconds: int = 86400) -> str:
    async with scheduler.database.session() as db:
        body = StartRecording(meeting_id=meeting_id, allow_multiple_recordings=True)
        row = await recordings.start(db, app_id, body, session_id=None)
        row.config = {**row.config, "max_seconds": max_seconds}
        await db.commit()
    scheduler.wake()
    return row.id


async def _until(scheduler: RecordingScheduler, recording_id: str, *statuses: str) -> Recording:
    for _ in range(200):
        async with scheduler.database.session() as db:
            row = await db.get(Recording, recording_id)
            assert row is not None
            if row.status in statuses:
                return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"recording {recording_id} never became {statuses}")


async def test_max_seconds_stops_a_recording(scheduler: tuple) -> None:
    running, app_id, meeting_id = scheduler
    rid = await _start(running, app_id, meeting_id, max_seconds=1)
    row = await _until(running, rid, "UPLOADED", "ERRORED")
    assert row.status == "UPLOADED" and row.stop_reason == {"reason": "MAX_SECONDS"}
    assert row.recording_duration == 1
    composite = next(f for f in row.files if f["role"] == "composite")
    stored = running.local_storage.path_of(f"{rid}/{composite['name']}")
    assert 0.9 <= media_seconds(stored) <= 1.3 and row.file_size == stored.stat().st_size


async def test_shutdown_finalizes_what_is_recording(scheduler: tuple) -> None:
    running, app_id, meeting_id = scheduler
    rid = await _start(running, app_id, meeting_id)
    await _until(running, rid, "RECORDING")
    await asyncio.sleep(1.0)
    await running.stop()
    async with running.database.session() as db:
        row = await db.get(Recording, rid)
    assert row is not None and row.status == "UPLOADED"
    assert row.stop_reason == {"reason": "INTERNAL_ERROR"} and row.recording_duration >= 1


async def test_first_recordings_of_an_app_share_one_recorder_preset(scheduler: tuple) -> None:
    """Two recordings picked up at once in a new app both get their recorder. (On
    PostgreSQL both may try to make the recorder preset: the loser uses the winner's;
    SQLite serializes them, so this test does not force that race.)"""
    running, app_id, meeting_id = scheduler
    ids = [await _start(running, app_id, meeting_id) for _ in range(2)]
    for rid in ids:
        assert (await _until(running, rid, "RECORDING", "ERRORED")).status == "RECORDING"


async def test_storage_configs_are_read_off_the_event_loop(
        scheduler: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first azure, gcs or sftp config a process meets imports its library (up to a
    second): the start's check and the upload's storage are made in a worker thread."""
    from salon.recording import scheduler as scheduler_module
    from salon.services import recordings as recordings_service

    on_loop: dict[str, bool] = {}

    def watched(name: str, function):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            on_loop[name] = threading.current_thread() is threading.main_thread()
            return function(*args, **kwargs)
        return call

    monkeypatch.setattr(recordings_service, "check_storage_config",
                        watched("check", recordings_service.check_storage_config))
    monkeypatch.setattr(scheduler_module, "storage_for",
                        watched("storage", scheduler_module.storage_for))
    running, app_id, meeting_id = scheduler
    async with running.database.session() as db:  # an SFTP server nobody runs
        body = StartRecording(meeting_id=meeting_id, storage_config={
            "type": "sftp", "host": "127.0.0.1", "port": 1, "username": "u",
            "password": "p"})
        row = await recordings.start(db, app_id, body, session_id=None)
        row.config = {**row.config, "max_seconds": 1}
        await db.commit()
    running.wake()
    done = await _until(running, row.id, "UPLOADED", "ERRORED")
    assert done.status == "ERRORED"  # the upload was refused: kept in salon's own storage
    assert on_loop == {"check": False, "storage": False}


async def test_a_finished_recorders_token_lets_nobody_in(scheduler: tuple) -> None:
    """A url recording's page got the recorder's token: once the recording is over,
    that token (and any minted for the recorder before) is refused."""
    running, app_id, meeting_id = scheduler
    rid = await _start(running, app_id, meeting_id)
    await _until(running, rid, "RECORDING")
    async with running.database.session() as db:
        recorder = await db.scalar(select(Participant).where(
            Participant.custom_participant_id == f"recorder-{rid}"))
        assert recorder is not None
        token = running.signer.mint(recorder)
        await participants.admit(db, running.signer, token)  # let in while it records
    await running.stop()  # finalizes the recording (as in the test above)
    async with running.database.session() as db:
        assert (await db.get(Recording, rid)).status == "UPLOADED"
        with pytest.raises(Unauthorized, match="replaced by a newer one"):
            await participants.admit(db, running.signer, token)


async def test_a_database_that_does_not_answer_for_a_moment_ends_no_recording(
        scheduler: tuple) -> None:
    """While the database refuses (a failover, a locked SQLite), the recorder goes on;
    the recording ends as it would have (here at its `max_seconds`)."""
    running, app_id, meeting_id = scheduler
    rid = await _start(running, app_id, meeting_id, max_seconds=3)
    await _until(running, rid, "RECORDING")
    session = running.database.session
    refusals = [0]

    def refusing():
        if refusals[0] < 6:
            refusals[0] += 1
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return session()

    running.database.session = refusing
    try:
        for _ in range(100):  # the scheduler's ticks meet the refusals
            if refusals[0] == 6:
                break
            await asyncio.sleep(0.05)
    finally:
        running.database.session = session
    assert refusals[0] == 6
    row = await _until(running, rid, "UPLOADED", "ERRORED")
    assert row.status == "UPLOADED" and row.stop_reason == {"reason": "MAX_SECONDS"}


async def test_a_draining_node_starts_no_recorder(scheduler: tuple) -> None:
    """A node told to stop (SIGTERM marks it draining before its websockets close)
    leaves the queue to the other nodes: a recorder started here could no longer join
    (seen: a recording let go when its recorder lost the closing server was taken back
    by the same node, whose new recorder was refused)."""
    running, app_id, meeting_id = scheduler
    registry = SimpleNamespace(draining=True)
    running.claims._registry = registry
    rid = await _start(running, app_id, meeting_id)
    await asyncio.sleep(1.0)  # woken, and looked at again meanwhile
    async with running.database.session() as db:
        row = await db.get(Recording, rid)
    assert row is not None and row.status == "INVOKED" and row.claimed_at is None
    registry.draining = False  # (a node that stays: it takes the queue again)
    await _until(running, rid, "RECORDING")
