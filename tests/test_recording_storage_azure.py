"""Recording storage on Azure Blob Storage (RealtimeKit's `azure` type), against Azurite
on loopback: uploads with the account's connection string in `access_key`, read-only
SAS links fetched over HTTP, refusals that name the field or the container and never
the key."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from salon.recording.storage import (
    StorageFailed,
    UnsupportedStorage,
    check_storage_config,
    storage_for,
)
from salon.recording.storage.azure import AzureStorage
from tests.azure import ACCOUNT, ACCOUNT_KEY, CONTAINER, Azure, azurite
from tests.storage_checks import LOCAL, put_weekly_sync


@pytest.fixture(scope="module")
def azure() -> Any:
    with azurite() as running:
        yield running


async def test_upload_then_download_by_sas_link(azure: Azure, tmp_path: Path) -> None:
    storage = storage_for(azure.config(path="meetings/weekly"), local=LOCAL)
    assert isinstance(storage, AzureStorage)
    stored, data = await put_weekly_sync(storage, tmp_path)
    name = "meetings/weekly/rec-1/weekly-sync.mp4"
    assert azure.read(name) == data
    assert (stored.size, stored.backend, stored.location) == (
        len(data), "azure", f"{azure.url}/{CONTAINER}/meetings/weekly/rec-1/weekly-sync.mp4")
    url, expiry = await storage.download_url(stored, timedelta(hours=2))
    assert url.startswith(f"{stored.location}?") and "sp=r" in url
    assert ACCOUNT_KEY not in url and ACCOUNT_KEY[:20] not in url
    fetched = httpx.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == data
    assert fetched.headers["content-type"] == "video/mp4"
    assert expiry is not None
    expired = url.split("?")[0] + "?" + "&".join(
        part if not part.startswith("se=") else "se=2020-01-01T00%3A00%3A00Z"
        for part in url.split("?")[1].split("&"))
    assert httpx.get(expired, timeout=10).status_code == 403  # the signature covers it
    await storage.delete(stored)
    with pytest.raises(Exception, match="BlobNotFound|ResourceNotFound"):
        azure.read(name)
    await storage.delete(stored)  # already gone: not an error


@pytest.mark.parametrize(("wrong", "code"), [("container", "ContainerNotFound"),
                                             ("key", "AuthorizationFailure")])
async def test_failures_name_the_container_not_the_key(azure: Azure, tmp_path: Path,
                                                       wrong: str, code: str) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(b"x" * 1000)
    config = (azure.config(bucket="no-such-container") if wrong == "container" else
              azure.config(access_key=azure.connection_string.replace(ACCOUNT_KEY,
                                                                      "A" * 86 + "==")))
    with pytest.raises(StorageFailed) as failed:
        await storage_for(config, local=LOCAL).put(path, "rec-2/a.mp4", "video/mp4")
    container = config["bucket"]
    assert failed.value.message == (f"azure container '{container}' of account '{ACCOUNT}': "
                                    f"could not upload rec-2/a.mp4: {code}.")
    assert ACCOUNT_KEY not in repr(storage_for(config, local=LOCAL))


@pytest.mark.parametrize(("config", "says"), [
    ({"type": "azure", "access_key": "AccountName=a;AccountKey=a2V5"}, "needs bucket"),
    ({"type": "azure", "bucket": "b", "secret": "S"}, "needs access_key"),
    ({"type": "azure", "bucket": "b", "access_key": "not a connection string"},
     "must be the storage account's connection string"),
    ({"type": "azure", "bucket": "b", "access_key":
      "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=1&sig=x"},
     "with AccountName and AccountKey"),
    ({"type": "azure", "bucket": "b/c", "access_key": "AccountName=a;AccountKey=a2V5"},
     "must be a bucket name"),
])
def test_incomplete_configs_say_which_field(config: dict[str, Any], says: str) -> None:
    with pytest.raises(UnsupportedStorage) as refused:
        check_storage_config(config)
    assert says in refused.value.message
    assert "a2V5" not in refused.value.message and "sig=x" not in refused.value.message
