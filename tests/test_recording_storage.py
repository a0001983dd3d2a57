"""Recording storage backends chosen from RealtimeKit's `storage_config`: S3-compatible
uploads against a real S3 server on loopback (moto's), presigned links fetched over
HTTP, types not built yet refused with a message a person can act on, and secrets kept
out of every repr and message."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from salon.recording.storage import (
    LocalStorage,
    S3Storage,
    StorageFailed,
    UnsupportedStorage,
    check_storage_config,
    s3,
    storage_for,
)
from salon.recording.storage.choose import s3_target
from tests.s3 import ACCESS_KEY, SECRET, bucket, storage_config
from tests.servers import free_port
from tests.storage_checks import LOCAL


@pytest.mark.parametrize("kind", ["aws", "digitalocean", "cloudflare"])
async def test_upload_then_download_by_presigned_link(kind: str, moto_url: str,
                                                      tmp_path: Path) -> None:
    client = bucket(moto_url, f"rec-{kind}")
    storage = storage_for(storage_config(kind, moto_url, f"rec-{kind}", path="/meetings/weekly/"),
                          local=LOCAL)
    assert isinstance(storage, S3Storage)
    finished = tmp_path / "weekly-sync.mp4"
    data = bytes(range(256)) * 1000
    finished.write_bytes(data)
    stored = await storage.put(finished, "rec-1/weekly-sync.mp4", "video/mp4")
    assert (stored.key, stored.size, stored.backend) == ("rec-1/weekly-sync.mp4", len(data),
                                                         kind)
    assert stored.location == f"s3://rec-{kind}/meetings/weekly/rec-1/weekly-sync.mp4"
    head = client.head_object(Bucket=f"rec-{kind}", Key="meetings/weekly/rec-1/weekly-sync.mp4")
    assert head["ContentType"] == "video/mp4" and head["ContentLength"] == len(data)

    before = datetime.now(UTC)
    url, expiry = await storage.download_url(stored, timedelta(hours=2))
    assert abs((expiry - before) - timedelta(hours=2)) < timedelta(seconds=2)
    assert url.startswith(f"{moto_url}/rec-{kind}/meetings/weekly/rec-1/weekly-sync.mp4?")
    # SigV4 links name the access key id (as any presigned URL does), never the secret.
    assert "X-Amz-Expires=7200" in url and SECRET not in url
    async with httpx.AsyncClient() as http:
        got = await http.get(url)
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == "video/mp4"
        await storage.delete(stored)
        await storage.delete(stored)  # twice: not an error
        assert (await http.get(url)).status_code == 404


async def test_large_files_go_up_in_parts(moto_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    client = bucket(moto_url, "rec-large")
    monkeypatch.setattr(s3, "TRANSFER", s3.TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    storage = storage_for(storage_config("aws", moto_url, "rec-large"), local=LOCAL)
    finished = tmp_path / "long.mp4"
    data = bytes(range(251)) * (12 * 1024 * 1024 // 251)
    finished.write_bytes(data)
    stored = await storage.put(finished, "rec-2/long.mp4", "video/mp4")
    # A multipart upload's ETag is "<md5 of the parts' md5s>-<parts>".
    etag = client.head_object(Bucket="rec-large", Key="rec-2/long.mp4")["ETag"]
    assert etag.strip('"').endswith("-3"), etag
    url, _ = await storage.download_url(stored, timedelta(days=30))
    assert "X-Amz-Expires=604800" in url  # SigV4's longest, not 30 days
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == data


async def test_failures_name_the_bucket_not_the_secret(moto_url: str, tmp_path: Path) -> None:
    storage = storage_for(storage_config("aws", moto_url, "no-such-bucket"), local=LOCAL)
    finished = tmp_path / "a.mp4"
    finished.write_bytes(b"x" * 100)
    with pytest.raises(StorageFailed) as failed:
        await storage.put(finished, "rec-3/a.mp4", "video/mp4")
    assert "no-such-bucket" in failed.value.message and "NoSuchBucket" in failed.value.message
    assert failed.value.__cause__ is None  # boto's exception (with the request) not chained
    for text in (failed.value.message, str(failed.value), repr(failed.value)):
        assert SECRET not in text and ACCESS_KEY not in text
    unreachable = storage_for(storage_config("aws", f"http://127.0.0.1:{free_port()}", "b"),
                              local=LOCAL)
    with pytest.raises(StorageFailed) as down:
        await unreachable.put(finished, "rec-3/a.mp4", "video/mp4")
    assert SECRET not in down.value.message and ACCESS_KEY not in down.value.message


@pytest.mark.parametrize(("config", "says"), [
    ({"type": "aws", "bucket": "b", "secret": SECRET, "region": "us-east-1"}, "access_key"),
    ({"type": "aws", "access_key": ACCESS_KEY, "secret": SECRET, "region": "r"}, "bucket"),
    ({"type": "aws", "bucket": "b", "access_key": ACCESS_KEY, "secret": SECRET}, "region"),
    ({"type": "cloudflare", "bucket": "b", "access_key": ACCESS_KEY, "secret": SECRET},
     "host"),
    ({"type": "digitalocean", "bucket": "b", "access_key": ACCESS_KEY}, "secret"),
    ({"type": "cloudflare", "bucket": "b", "access_key": ACCESS_KEY, "secret": SECRET,
      "host": "ftp://x"}, "host must be"),
    ({"type": "cloudflare", "bucket": "b", "access_key": ACCESS_KEY, "secret": SECRET,
      "host": "https://h:port"}, "host must be"),
    *[({"type": "aws", "bucket": "b", "access_key": ACCESS_KEY, "secret": SECRET,
        "region": "r", "host": host}, "host must be")
      for host in ("[::1", "a]b", "https://[abc]")],  # urlsplit raises on these
    *[({"type": "cloudflare", "bucket": "b", "access_key": ACCESS_KEY, "secret": SECRET,
        "host": host}, "host must be")
      for host in ("not a host", "https://not a host/", "xn--", "https://-a.example")],
    ({"type": "dropbox", "access_key": ACCESS_KEY, "secret": SECRET}, "'dropbox'"),
])
def test_incomplete_configs_say_which_field(config: dict[str, Any], says: str) -> None:
    with pytest.raises(UnsupportedStorage) as refused:
        check_storage_config(config)
    assert says in refused.value.message
    assert SECRET not in refused.value.message and ACCESS_KEY not in refused.value.message


def test_endpoints_per_provider() -> None:
    keys = {"bucket": "b", "access_key": ACCESS_KEY, "secret": SECRET}
    assert s3_target({"type": "aws", "region": "eu-west-1", **keys}).endpoint_url is None
    assert s3_target({"type": "aws", "region": "eu-west-1", "host": "minio.lan", "port": 9000,
                      **keys}).endpoint_url == "https://minio.lan:9000"
    spaces = s3_target({"type": "digitalocean", "region": "SGP1", **keys})
    assert (spaces.endpoint_url, spaces.region) == ("https://sgp1.digitaloceanspaces.com",
                                                    "sgp1")
    r2 = s3_target({"type": "cloudflare", "host": "acct.r2.cloudflarestorage.com", **keys})
    assert (r2.endpoint_url, r2.region) == ("https://acct.r2.cloudflarestorage.com", "auto")
    assert s3_target({"type": "cloudflare", "host": "http://127.0.0.1:9000/", "port": 1,
                      **keys}).endpoint_url == "http://127.0.0.1:9000"


def test_secrets_stay_out_of_reprs() -> None:
    config = {"type": "aws", "bucket": "b", "region": "us-east-1", "access_key": ACCESS_KEY,
              "secret": SECRET}
    target = s3_target(config)
    storage = storage_for(config, local=LOCAL)
    for text in (repr(target), str(target), repr(storage), str(storage)):
        assert "bucket='b'" in text
        assert SECRET not in text and ACCESS_KEY not in text, text


def test_own_storage_without_a_config() -> None:
    config = {"type": "aws", "bucket": "b", "region": "us-east-1", "access_key": ACCESS_KEY,
              "secret": SECRET}
    check_storage_config(None)
    assert storage_for(None, local=LOCAL) is LOCAL
    assert isinstance(storage_for(config, local=LOCAL), S3Storage)


async def test_a_storage_that_fails_unexpectedly_still_keeps_the_files(tmp_path: Path) -> None:
    """A library raising something other than StorageFailed (a config it could not use
    after all) must not lose the recording: the file goes to salon's own storage, as for
    a refused upload, and the reason names the error's kind only."""
    from types import SimpleNamespace

    from salon.recording.delivery import Destination, store
    from salon.recording.spec import OutputFile

    class Surprising:
        backend = "gcs"

        async def put(self, local_path: Path, key: str, content_type: str):
            raise TypeError("ECPrivateKey.sign() takes 2 positional arguments")

    own = LocalStorage(tmp_path / "own", b"k" * 32, "http://salon")
    video = tmp_path / "work" / "board.mp4"
    video.parent.mkdir()
    video.write_bytes(b"\0" * 2048)
    row = SimpleNamespace(id="rec-9", config={})
    fields = await store(row, [OutputFile(video, "composite", "video/mp4", 2048, 3.0)],
                         Destination(Surprising(), timedelta(days=1), fallback=own))
    assert fields["storage_error"] == ("gcs storage could not take rec-9/board.mp4: "
                                       "TypeError. The files are kept in salon's own storage.")
    assert fields["download_url"].startswith("http://salon/") and fields["file_size"] == 2048
    assert (tmp_path / "own" / "rec-9" / "board.mp4").stat().st_size == 2048
