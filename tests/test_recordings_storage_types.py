"""A recording with an `sftp`, `gcs` or `azure` `storage_config` goes there: started over
REST, recorded (by the test recorder), uploaded to a real SFTP server on loopback
(asyncssh's), a Google Cloud Storage emulator or Azurite, and answered with the file's
place or a signed link; the password, the service account's key or the account key
never comes back."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.azure import ACCOUNT_KEY, CONTAINER, azurite
from tests.gcs import BUCKET, gcs_emulator
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
        assert done["download_url"] == (f"sftp://{USER}@127.0.0.1:{server.port}/~/recordings/"
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


def test_a_recording_lands_in_the_gcs_bucket(rec_server: SalonServer, tmp_path: Path) -> None:
    with gcs_emulator() as gcs, httpx.Client(
            base_url=rec_server.app_url, headers=rec_server.headers, timeout=30) as http:
        meeting, done = record(http, "Board", gcs.config(path="salon"))
        rid = done["id"]
        assert done["status"] == "UPLOADED", done
        key = json.loads(gcs.secret)["private_key"]
        for answer in (http.get(f"/recordings/{rid}").text,
                       http.get("/recordings", params={"meeting_id": meeting["id"]}).text):
            assert key[40:80] not in answer and "service_account" not in answer
        assert done["storage_config"] == {
            "type": "gcs", "bucket": BUCKET, "region": None, "path": "salon",
            "auth_method": None, "username": None, "host": gcs.url, "port": None}
        stored = gcs.read(f"salon/{rid}/{done['output_file_name']}")
        assert len(stored) == done["file_size"] > 0
        assert done["download_url"].startswith(f"{gcs.url}/{BUCKET}/salon/{rid}/")
        fetched = httpx.get(done["download_url"], timeout=30)
        assert fetched.status_code == 200 and fetched.content == stored
        path = tmp_path / done["output_file_name"]
        path.write_bytes(stored)
        assert abs(media_seconds(path) - done["recording_duration"]) <= 1


def test_a_recording_lands_in_the_azure_container(rec_server: SalonServer) -> None:
    with azurite() as azure, httpx.Client(
            base_url=rec_server.app_url, headers=rec_server.headers, timeout=30) as http:
        meeting, done = record(http, "Board", azure.config(path="salon"))
        rid = done["id"]
        assert done["status"] == "UPLOADED", done
        for answer in (http.get(f"/recordings/{rid}").text,
                       http.get("/recordings", params={"meeting_id": meeting["id"]}).text):
            assert ACCOUNT_KEY[:20] not in answer and "AccountKey" not in answer
        assert done["storage_config"] == {
            "type": "azure", "bucket": CONTAINER, "region": "", "path": "salon",
            "auth_method": None, "username": None, "host": None, "port": None}
        stored = azure.read(f"salon/{rid}/{done['output_file_name']}")
        assert len(stored) == done["file_size"] > 0
        assert done["download_url"].startswith(f"{azure.url}/{CONTAINER}/salon/{rid}/")
        fetched = httpx.get(done["download_url"], timeout=30)
        assert fetched.status_code == 200 and fetched.content == stored
