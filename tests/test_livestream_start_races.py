"""Starting meeting livestreams at the same moment, on both databases (a real server,
the test encoder `tests/fake_livestreamer.py`):

- many starts of one meeting at once: one is 201, the others the documented 409, and
  the meeting has one livestream with one session — on its first start (no livestream
  yet) as on a later one (its livestream there, no session running);
- the first encoders of a new app, started together: both get going (the recorder
  preset both need is made once, by one of them)."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from salon.core.livestreams import StartLivestream
from salon.livestream.runner import LivestreamRunner, RunnerSettings
from salon.services import livestreams, participant_tokens
from salon.services.livestreams import Urls
from salon.store.database import Database
from tests import test_cluster_jobs
from tests.servers import SalonServer, app_client, free_port, running_on
from tests.test_cluster_jobs import app_id_of, new_meeting
from tests.test_livestream_api import LIVESTREAM_ENV, SMALL, wait_for

#: A migrated PostgreSQL database with one app (a fixture).
database = test_cluster_jobs.database

STARTS = 6


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def start_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    env = {**LIVESTREAM_ENV, "SALON_RTMP_PORT": str(free_port())}
    with running_on(request.param, env) as salon:
        yield salon


@pytest.fixture
def http(start_server: SalonServer) -> Iterator[httpx.Client]:
    with app_client(start_server, timeout=20) as client:
        yield client


async def _starts_at_once(server: SalonServer, meeting_id: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=server.app_url, headers=server.headers,
                                 timeout=20) as client:
        return list(await asyncio.gather(*(
            client.post(f"/meetings/{meeting_id}/livestreams", json={"video_config": SMALL})
            for _ in range(STARTS))))


def _livestreams_of(http: httpx.Client, meeting_id: str) -> list[dict[str, Any]]:
    listed = http.get("/livestreams", params={"per_page": 100}).json()["data"]
    return [row for row in listed["livestreams"] if row["meeting_id"] == meeting_id]


async def test_simultaneous_starts_make_one_livestream(start_server: SalonServer,
                                                       http: httpx.Client) -> None:
    for round_no in range(3):
        meeting = http.post("/meetings", json={"title": f"race {round_no}"}).json()["data"]
        for start_no in range(2):  # no livestream yet; then one with no session running
            answers = await _starts_at_once(start_server, meeting["id"])
            codes = sorted(answer.status_code for answer in answers)
            assert codes == [201] + [409] * (STARTS - 1), [a.text for a in answers]
            won = next(a for a in answers if a.status_code == 201).json()["data"]
            for lost in (a for a in answers if a.status_code == 409):
                assert lost.json()["error"]["message"] == (
                    f"Meeting {meeting['id']} is already being livestreamed "
                    f"(livestream {won['id']}); stop it first.")
            assert [row["id"] for row in _livestreams_of(http, meeting["id"])] == [won["id"]]
            shown = http.get(f"/livestreams/{won['id']}").json()["data"]
            assert shown["paging"]["total_count"] == start_no + 1
            stopped = http.post(f"/meetings/{meeting['id']}/active-livestream/stop")
            assert stopped.status_code == 200, stopped.text
            active = f"/meetings/{meeting['id']}/active-livestream"
            await asyncio.to_thread(wait_for, lambda path=active: http.get(path)
                                    .status_code == 404, 20, "the stop")


async def test_a_new_apps_first_livestream_encoders_start_together(
        database: Database, tmp_path: Path) -> None:
    """Two encoders of an app that has no recorder preset yet start at once (PostgreSQL:
    on SQLite their transactions take turns): both make it, one of them rolls back,
    and both still get their spec — the rollback must not leave the other's rows
    unreadable (it ended the session ERRORED, `DetachedInstanceError`)."""
    app_id = await app_id_of(database)
    started = []
    for _ in range(2):
        meeting_id = await new_meeting(database)
        async with database.session() as db:
            _, row = await livestreams.start_meeting(db, app_id, meeting_id,
                                                     StartLivestream(), session_id=None)
            started.append(row.id)
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    runner = LivestreamRunner(database, RunnerSettings(
        max_concurrent=2, encoder=LIVESTREAM_ENV["SALON_LIVESTREAMER"], data_dir=tmp_path,
        gateway_url="ws://127.0.0.1:1", urls=Urls("http://127.0.0.1:1", "rtmp://x/live/")),
        signer)
    specs = await asyncio.gather(*(runner._spec(session_id) for session_id in started))
    assert [spec.recording_id for spec in specs] == started
