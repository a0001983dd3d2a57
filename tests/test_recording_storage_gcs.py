"""Recording storage on Google Cloud Storage (RealtimeKit's `gcs` type), against an
emulator on loopback: uploads with Google's client as the service account in `secret`,
V4 links signed with its key and fetched over HTTP, refusals that name the field or the
bucket and never the key."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from salon.recording.storage import (
    StorageFailed,
    UnsupportedStorage,
    check_storage_config,
    storage_for,
)
from salon.recording.storage.gcs import GcsStorage
from tests.gcs import BUCKET, Gcs, gcs_emulator
from tests.storage_checks import LOCAL, put_weekly_sync

EC_KEY = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def gcs() -> Any:
    with gcs_emulator() as running:
        yield running


async def test_upload_then_download_by_signed_link(gcs: Gcs, tmp_path: Path) -> None:
    storage = storage_for(gcs.config(path="/meetings/weekly/"), local=LOCAL)
    assert isinstance(storage, GcsStorage)
    stored, data = await put_weekly_sync(storage, tmp_path)
    name = "meetings/weekly/rec-1/weekly-sync.mp4"
    assert gcs.read(name) == data
    assert (stored.size, stored.backend, stored.location) == (
        len(data), "gcs", f"gs://{BUCKET}/{name}")
    url, expiry = await storage.download_url(stored, timedelta(hours=2))
    assert url.startswith(f"{gcs.url}/{BUCKET}/{name}?X-Goog-Algorithm=GOOG4-RSA-SHA256")
    assert "X-Goog-Expires=7200" in url and "private_key" not in url
    fetched = httpx.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == data
    _, longest = await storage.download_url(stored, timedelta(days=30))
    # 30 days asked, V4's 7 at most given
    assert abs(longest - expiry - (timedelta(days=7) - timedelta(hours=2))) <= timedelta(
        seconds=2)
    await storage.delete(stored)
    with pytest.raises(Exception, match="NotFound|404"):
        gcs.read(name)
    await storage.delete(stored)  # already gone: not an error


async def test_failures_name_the_bucket_not_the_key(gcs: Gcs, tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(b"x" * 1000)
    storage = storage_for(gcs.config(bucket="no-such-bucket"), local=LOCAL)
    with pytest.raises(StorageFailed) as failed:
        await storage.put(path, "rec-2/a.mp4", "video/mp4")
    message = failed.value.message
    assert message == (f"gcs bucket 'no-such-bucket' at {gcs.url}: could not upload "
                       "rec-2/a.mp4: NotFound (404).")
    key = json.loads(gcs.secret)["private_key"]
    assert key[40:80] not in repr(storage) and "private_key" not in repr(storage)


@pytest.mark.parametrize(("config", "says"), [
    ({"type": "gcs", "secret": "{}"}, "needs bucket"),
    ({"type": "gcs", "bucket": "b", "access_key": "AK"}, "needs secret"),
    ({"type": "gcs", "bucket": "b", "secret": "not json"}, "must be a service account key"),
    ({"type": "gcs", "bucket": "b", "secret": json.dumps({"type": "authorized_user"})},
     "must be a service account key"),
    ({"type": "gcs", "bucket": "b", "secret": json.dumps({
        "type": "service_account", "client_email": "a@b", "private_key": "nope",
        "token_uri": "https://oauth2.googleapis.com/token"})}, "must be the service account's "
     "RSA key"),
    ({"type": "gcs", "bucket": "b", "secret": json.dumps({
        "type": "service_account", "client_email": "a@b", "private_key": EC_KEY})},
     "must be the service account's RSA key"),
    ({"type": "gcs", "bucket": "b/c", "secret": "{}"}, "must be a bucket name"),
])
def test_incomplete_configs_say_which_field(config: dict[str, Any], says: str) -> None:
    with pytest.raises(UnsupportedStorage) as refused:
        check_storage_config(config)
    assert says in refused.value.message
    assert "nope" not in refused.value.message


def test_the_token_request_goes_to_google_unless_the_config_names_an_endpoint(
        gcs: Gcs) -> None:
    """salon posts a signed token request to the key's `token_uri`: without `host`, that
    is Google's whatever the key says (a key is no way to make the server call anywhere)."""
    from salon.recording.storage.choose import gcs_target
    elsewhere = json.loads(gcs.secret) | {"token_uri": "http://10.0.0.1/token",
                                           "project_id": 1234}
    config = gcs.config(secret=json.dumps(elsewhere))
    assert gcs_target({**config, "host": None}).service_account["token_uri"] == \
        "https://oauth2.googleapis.com/token"
    assert gcs_target(config).service_account["token_uri"] == "http://10.0.0.1/token"
    assert gcs_target(config).service_account["project_id"] == "1234"  # Google's type
