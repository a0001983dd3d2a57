"""A real S3-compatible server on loopback (moto's) for the storage and recording tests:
the `moto_url` fixture (in conftest), a bucket, and a `storage_config` pointing at it."""

from collections.abc import Iterator
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tests.servers import free_port

ACCESS_KEY = "AKIASALONTESTKEY0001"
SECRET = "s3cr3t-salon-recording-value"


def moto_server() -> Iterator[str]:
    """Runs moto's S3 server on a free loopback port while iterated: its URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def bucket(moto_url: str, name: str) -> Any:
    """A new bucket; returns a boto3 client to look inside it."""
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
    client.create_bucket(Bucket=name)
    return client


def storage_config(kind: str, moto_url: str, bucket_name: str, **more: Any) -> dict[str, Any]:
    return {"type": kind, "bucket": bucket_name, "access_key": ACCESS_KEY, "secret": SECRET,
            "region": "us-east-1", "host": moto_url, **more}
