"""Running the server: first start, restart, OpenAPI docs, clean shutdown."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from salon.api import app as application
from tests.servers import free_port, launch


def test_first_start_prints_credentials_once_and_they_work() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="salon-first-"))
    env = {**os.environ, "SALON_DATA_DIR": str(data_dir), "SALON_DATABASE_URL": ""}
    port = free_port()
    log = data_dir / "server.log"
    process = launch(env, port, log)
    try:
        text = log.read_text()
        account = re.search(r"account_id:\s+(\w+)", text).group(1)
        app = re.search(r"app_id:\s+(\w+)", text).group(1)
        token = re.search(r"api_token:\s+(\S+)", text).group(1)
        url = f"http://127.0.0.1:{port}/client/v4/accounts/{account}/realtime/kit/{app}/meetings"
        created = httpx.post(url, json={"title": "kept"}, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201

        docs = httpx.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()
        assert any(path.endswith("/meetings/{meeting_id}/participants") for path in spec["paths"])

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
        assert "Traceback" not in log.read_text()
        assert "Application shutdown complete" in log.read_text()

        # Second start: same data, no new credentials printed, the meeting is still there.
        log2 = data_dir / "server2.log"
        process = launch(env, port, log2)
        assert "api_token" not in log2.read_text()
        listed = httpx.get(url, headers={"Authorization": f"Bearer {token}"}).json()
        assert [m["title"] for m in listed["data"]] == ["kept"]
    finally:
        process.kill()
        process.wait()


def test_ctrl_c_shuts_down_cleanly_with_status_0(tmp_path: Path) -> None:
    """As operations.md says: Ctrl-C (SIGINT) is a clean shutdown, as SIGTERM is."""
    env = {**os.environ, "SALON_DATA_DIR": str(tmp_path), "SALON_DATABASE_URL": "",
           "SALON_MEDIA_BACKEND": "none", "SALON_RTMP_PORT": "0"}
    log = tmp_path / "server.log"
    process = launch(env, free_port(), log)
    try:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        text = log.read_text()
        assert "Application shutdown complete" in text
        assert "Aborted" not in text and "Traceback" not in text
    finally:
        process.kill()
        process.wait()


def test_serve_help_names_the_options() -> None:
    result = subprocess.run([sys.executable, "-m", "salon", "serve", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--host" in result.stdout and "--port" in result.stdout


async def test_a_slow_step_of_stopping_is_named_in_the_log(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A drain that overruns its grace period is killed (SIGKILL): the log says where
    the time went. A quick step says nothing."""
    monkeypatch.setattr(application, "SLOW_STOP_SECS", 0.05)
    with caplog.at_level("WARNING", logger="salon.server"):
        await application._timed("the quick one", asyncio.sleep(0))
        await application._timed("the recording scheduler", asyncio.sleep(0.1))
    said = [r.getMessage() for r in caplog.records if r.name == "salon.server"]
    assert len(said) == 1 and said[0].startswith("stopping: the recording scheduler took 0.1")
