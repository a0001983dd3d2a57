"""Azurite, Microsoft's Azure Storage emulator, on loopback for the azure storage and
recording tests (installed by scripts/azurite; telemetry off, data in memory), with its
well-known development account."""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from azure.storage.blob import BlobServiceClient

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CONTAINER = "salon-recordings"
ACCOUNT = "devstoreaccount1"
#: Azurite's published development key (not a secret anywhere).
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")


@dataclass
class Azure:
    url: str
    connection_string: str

    def config(self, **more: Any) -> dict[str, Any]:
        return {"type": "azure", "bucket": CONTAINER, "access_key": self.connection_string,
                "secret": "", "region": "", **more}

    def read(self, name: str) -> bytes:
        service = BlobServiceClient.from_connection_string(self.connection_string)
        return service.get_blob_client(CONTAINER, name).download_blob().readall()


@contextmanager
def azurite() -> Iterator[Azure]:
    """Azurite's blob service on a free loopback port, with `CONTAINER` made."""
    command = subprocess.run([str(ROOT / "scripts" / "azurite")], check=True,
                             capture_output=True, text=True).stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/{ACCOUNT}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("Azurite did not start") from None
                time.sleep(0.1)
        connection_string = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                             f"AccountKey={ACCOUNT_KEY};BlobEndpoint={url};")
        BlobServiceClient.from_connection_string(connection_string).create_container(CONTAINER)
        yield Azure(url, connection_string)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
