"""A recording with an `sftp` `storage_config` goes to that SSH server: started over
REST, recorded (by the test recorder), uploaded to a real SFTP server on loopback
(asyncssh's), and answered with the file's place; the password never comes back."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.recording_helpers import media_seconds, record, recording_server
from tests.servers import SalonServer
from tests.sftp import PASSWORD, USER, sftp_server


@pytest.fixture(scope="module")
def rec_server() -> Iterator[SalonServer]:
    with recording_server("sqlite") as salon:
        yield salon


def test_a_recording_lands_on_the_sftp_server(rec_server: SalonServer,
                                              tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with sftp_server(root) as server, httpx.Client(
            base_url=rec_server.app_url, headers=rec_server.headers, timeout=30) as http:
        meeting, done = record(http, "Board", server.config(path="recordings"))
        rid = done["id"]
        assert done["status"] == "UPLOADED", done
        for answer in (http.get(f"/recordings/{rid}").text,
                       http.get("/recordings", params={"meeting_id": meeting["id"]}).text):
            assert PASSWORD not in answer and '"password"' not in answer
        assert done["storage_config"] == {
            "type": "sftp", "bucket": None, "region": None, "path": "recordings",
            "auth_method": None, "username": USER, "host": "127.0.0.1",
            "port": server.port}
        landed = root / "recordings" / rid / done["output_file_name"]
        assert landed.stat().st_size == done["file_size"] > 0
        assert done["download_url"] == (f"sftp://{USER}@127.0.0.1:{server.port}/recordings/"
                                        f"{rid}/{done['output_file_name']}")
        assert done["download_url_expiry"] is None
        assert abs(media_seconds(landed) - done["recording_duration"]) <= 1


def test_a_refused_login_keeps_the_recording_in_salons_own_storage(
        rec_server: SalonServer, tmp_path: Path) -> None:
    with sftp_server(tmp_path) as server, httpx.Client(
            base_url=rec_server.app_url, headers=rec_server.headers, timeout=30) as http:
        _, done = record(http, "Locked out", server.config(password="not-the-pa55word-9f3"))
    assert done["status"] == "ERRORED", done
    assert done["download_url"].startswith(rec_server.url)
    fetched = httpx.get(done["download_url"], timeout=30)
    assert fetched.status_code == 200 and len(fetched.content) == done["file_size"] > 0
    log = rec_server.log()
    assert "the login was refused" in log and "kept in salon's own storage" in log
    assert "not-the-pa55word-9f3" not in log
    assert "Traceback" not in log
