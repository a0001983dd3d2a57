"""Shared by the recording tests: servers that record with the test recorder, and
waiting for a recording to reach a status."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import httpx

from tests.servers import SalonServer, ThrowawayPostgres, running

#: The control plane's tests record with `tests/fake_recorder.py` (a real MP4 of black
#: frames and silence); end-to-end tests with the media engine come at integration.
RECORDING_ENV = {"SALON_RECORDER": "tests.fake_recorder:run_recording",
                 "SALON_MAX_CONCURRENT_RECORDINGS": "2"}


@contextmanager
def recording_server(backend: str, env: dict[str, str] | None = None) -> Iterator[SalonServer]:
    database = ThrowawayPostgres() if backend == "postgresql" else None
    try:
        with running(database.url if database else "", env={**RECORDING_ENV, **(env or {})}) \
                as salon:
            yield salon
    finally:
        if database:
            database.drop()


def wait_status(http: httpx.Client, recording_id: str, *statuses: str,
                timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data = http.get(f"/recordings/{recording_id}").json()["data"]
        if data["status"] in statuses:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"recording {recording_id} is {data['status']}, not {statuses}")
        time.sleep(0.1)


def stored_file(server: SalonServer, recording_id: str, url: str) -> Path:
    """The file a download link names, fetched through it (salon's own storage, the
    signed route) into the server's data directory, under `downloads/`."""
    name = url.split("?")[0].rsplit("/", 1)[1]
    assert f"/recordings/files/{recording_id}/" in url, url
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    path = server.data_dir / "downloads" / recording_id / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(response.content)
    return path


def media_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


def other_app(server: SalonServer) -> dict[str, str]:
    """Another app of the account, and a token scoped to it alone (`api_token`)."""
    app = json.loads(server.cli("apps", "create", "neighbour", "--json").stdout)
    scoped = json.loads(server.cli("tokens", "create", "--app", app["app_id"], "--name",
                                   "neighbour", "--json").stdout)
    return {**app, "api_token": scoped["api_token"]}


def record(http: httpx.Client, title: str, config: dict) -> tuple[dict, dict]:
    """A meeting recorded for 1.5 s into `config`'s storage: the meeting, and the
    recording once it is over (UPLOADED or ERRORED)."""
    meeting = http.post("/meetings", json={"title": title}).json()["data"]
    started = http.post("/recordings", json={"meeting_id": meeting["id"],
                                             "storage_config": config})
    assert started.status_code == 201, started.text
    rid = started.json()["data"]["id"]
    wait_status(http, rid, "RECORDING")
    time.sleep(1.5)
    http.put(f"/recordings/{rid}", json={"action": "stop"})
    return meeting, wait_status(http, rid, "UPLOADED", "ERRORED")
