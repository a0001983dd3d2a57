"""A recording with a `storage_config` goes to that S3-compatible bucket: started over
REST, recorded (by the test recorder), uploaded to a real S3 server on loopback (moto),
and answered with a presigned link that serves the same bytes; the secrets never come
back in any answer."""


from collections.abc import Iterator

import httpx
import pytest

from tests.recording_helpers import media_seconds, record, recording_server
from tests.s3 import ACCESS_KEY, SECRET, bucket, storage_config
from tests.servers import SalonServer


@pytest.fixture(scope="module")
def rec_server() -> Iterator[SalonServer]:
    with recording_server("sqlite") as salon:
        yield salon


@pytest.mark.parametrize("kind", ["aws", "cloudflare"])
def test_a_recording_lands_in_the_bucket_it_names(rec_server: SalonServer, moto_url: str,
                                                  kind: str, tmp_path) -> None:
    name = f"meetings-{kind}"
    s3 = bucket(moto_url, name)
    with httpx.Client(base_url=rec_server.app_url, headers=rec_server.headers,
                      timeout=30) as http:
        meeting, done = record(http, "Board",
                               storage_config(kind, moto_url, name, path="salon/recordings"))
        rid = done["id"]
        assert done["status"] == "UPLOADED", done
        for answer in (http.get(f"/recordings/{rid}").text,
                       http.get("/recordings", params={"meeting_id": meeting["id"]}).text):
            assert SECRET not in answer
            assert "access_key" not in answer
        assert done["storage_config"]["bucket"] == name
        # every field, null when not set, the secrets never (as the meeting's view)
        assert set(done["storage_config"]) == {"type", "bucket", "region", "path",
                                               "auth_method", "username", "host", "port"}
        assert done["storage_config"]["auth_method"] is None

    key = f"salon/recordings/{rid}/{done['output_file_name']}"
    stored = s3.get_object(Bucket=name, Key=key)["Body"].read()
    assert len(stored) == done["file_size"]
    assert done["download_url"].startswith(moto_url) and ACCESS_KEY in done["download_url"]
    fetched = httpx.get(done["download_url"], timeout=30)
    assert fetched.status_code == 200 and fetched.content == stored
    path = tmp_path / done["output_file_name"]
    path.write_bytes(fetched.content)
    assert abs(media_seconds(path) - done["recording_duration"]) <= 1


def test_a_failed_upload_keeps_the_recording_in_salons_own_storage(
        rec_server: SalonServer, moto_url: str) -> None:
    """The bucket refuses the files (it does not exist): the recording is ERRORED, as the
    caller stopped it (API_CALL), and its files are in salon's storage, linked."""
    with httpx.Client(base_url=rec_server.app_url, headers=rec_server.headers,
                      timeout=30) as http:
        _, done = record(http, "Lost?", storage_config("aws", moto_url, "no-such-bucket"))
    assert done["status"] == "ERRORED", done
    assert done["stop_reason"] == {"reason": "API_CALL"}
    assert done["download_url"].startswith(rec_server.url), done["download_url"]
    assert done["audio_download_url"] is None or done["audio_download_url"].startswith(
        rec_server.url)
    fetched = httpx.get(done["download_url"], timeout=30)
    assert fetched.status_code == 200 and len(fetched.content) == done["file_size"] > 0
    assert done["recording_duration"] and done["recording_duration"] >= 1
    log = rec_server.log()
    assert "no-such-bucket" in log and "kept in salon's own storage" in log
    assert "Traceback" not in log


def test_a_bucket_name_boto3_cannot_send_is_refused_at_start(rec_server: SalonServer,
                                                             moto_url: str) -> None:
    with httpx.Client(base_url=rec_server.app_url, headers=rec_server.headers,
                      timeout=30) as http:
        meeting = http.post("/meetings", json={"title": "Slash"}).json()["data"]
        config = storage_config("aws", moto_url, "b/../c")
        refused = http.post("/recordings", json={"meeting_id": meeting["id"],
                                                 "storage_config": config})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "storage_config.bucket must be a bucket name: letters, digits, '.', '-' and '_' "
        "(a folder goes in storage_config.path).")
