"""A Google Cloud Storage emulator on loopback (gcp-storage-emulator) for the storage
and recording tests, with a service account of our own: its key signs the download
links, and its token endpoint is a small loopback server (google-auth trades the signed
JWT for an access token there, as it would at Google; the emulator takes any token)."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gcp_storage_emulator.server import create_server
from google.cloud import storage
from google.oauth2 import service_account

BUCKET = "salon-recordings"


class _TokenEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"access_token": "emulator-token", "expires_in": 3600,
                           "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Gcs:
    url: str
    #: The service account's JSON key, as a `storage_config.secret`.
    secret: str

    def config(self, **more: Any) -> dict[str, Any]:
        return {"type": "gcs", "bucket": BUCKET, "secret": self.secret, "host": self.url,
                **more}

    def read(self, name: str, bucket: str = BUCKET) -> bytes:
        """An object's bytes, read with Google's own client."""
        info = json.loads(self.secret)
        client = storage.Client(
            project=info["project_id"],
            credentials=service_account.Credentials.from_service_account_info(info),
            client_options={"api_endpoint": self.url})
        return client.bucket(bucket).blob(name).download_as_bytes()


def service_account_key(token_uri: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": "salon-tests",
                       "private_key_id": "test-key-1", "private_key": pem,
                       "client_email": "recorder@salon-tests.iam.gserviceaccount.com",
                       "client_id": "1", "token_uri": token_uri})


@contextmanager
def gcs_emulator() -> Iterator[Gcs]:
    """The emulator (in memory, bucket `BUCKET` made) and the token endpoint, each on a
    free loopback port, while in the block."""
    tokens = ThreadingHTTPServer(("127.0.0.1", 0), _TokenEndpoint)
    threading.Thread(target=tokens.serve_forever, daemon=True).start()
    server = create_server("127.0.0.1", 0, in_memory=True, default_bucket=BUCKET)
    server.start()
    try:
        port = server._api._httpd.server_address[1]  # the port it was given
        yield Gcs(f"http://127.0.0.1:{port}",
                  service_account_key(f"http://127.0.0.1:{tokens.server_address[1]}/token"))
    finally:
        server.stop()
        tokens.shutdown()
