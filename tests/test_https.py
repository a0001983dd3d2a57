"""`salon serve --certfile --keyfile`: HTTPS and WSS on the server's port, with a
self-signed certificate made here (the `cryptography` package). Clients that trust the
certificate get the landing page, the API and the realtime gateway over TLS; salon's own
bots (a recorder here) join without trusting it, on the loopback listener `serve` opens
for them (docs/operations.md, "Serving over HTTPS")."""

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from salon.client import RealtimeClient
from tests import contract
from tests.servers import free_port, run_cli


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salon test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


@dataclass
class TlsServer:
    base: str
    trust: ssl.SSLContext
    app_url: str
    headers: dict[str, str]
    log: Path
    #: The server's settings as environment variables (its TLS files included).
    env: dict[str, str]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    directory = tmp_path_factory.mktemp("tls")
    certfile, keyfile = self_signed(directory)
    port, log = free_port(), directory / "server.log"
    env = {**os.environ, "SALON_DATA_DIR": str(directory), "SALON_DATABASE_URL": "",
           "SALON_KEEP_ALIVE_CAP_SECS": "1.5", "SALON_PORT": str(port),
           "SALON_RECORDER": "tests.fake_recorder:run_joining_recording"}
    creds = json.loads(run_cli(env, "apps", "create", "tls", "--json").stdout)
    with open(log, "ab") as out:  # the files as flags here, as settings for `demo` below
        process = subprocess.Popen(
            [sys.executable, "-m", "salon", "serve",
             "--certfile", str(certfile), "--keyfile", str(keyfile)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    env = {**env, "SALON_TLS_CERTFILE": str(certfile), "SALON_TLS_KEYFILE": str(keyfile)}
    base = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(certfile))
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", verify=trust, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        app_url = f"{base}/client/v4/accounts/{creds['account_id']}/realtime/kit/{creds['app_id']}"
        yield TlsServer(base, trust, app_url, {"Authorization": f"Bearer {creds['api_token']}"},
                        log, env)
        assert "Traceback" not in log.read_text(), log.read_text()
    finally:
        process.terminate()
        process.wait(15)


def test_https_serves_the_landing_page_and_the_api(tls_server: TlsServer) -> None:
    page = httpx.get(f"{tls_server.base}/", verify=tls_server.trust)
    assert page.status_code == 200 and "Meetings on your own server" in page.text
    # Without being told, salon's absolute links are https: the landing page's example.
    assert f"<span data-base>{tls_server.base}</span>/client/v4/accounts/" in page.text
    # From here on, the API's answers are checked against its document, as everywhere.
    document = httpx.get(f"{tls_server.base}/openapi.json", verify=tls_server.trust).json()
    contract.CONTRACTS[tls_server.base] = contract.Contract(document)
    listed = httpx.get(f"{tls_server.app_url}/meetings", headers=tls_server.headers,
                       verify=tls_server.trust)
    assert listed.status_code == 200
    with pytest.raises(httpx.TransportError):  # the port speaks TLS only
        httpx.get(tls_server.base.replace("https", "http", 1) + "/healthz", timeout=3)
    with pytest.raises(httpx.ConnectError):  # a client that does not trust it is refused
        httpx.get(f"{tls_server.base}/healthz", timeout=3)
    assert "loopback only" in tls_server.log.read_text()


async def test_wss_join_and_a_bot_that_joins_without_trusting_the_certificate(
    tls_server: TlsServer
) -> None:
    async with httpx.AsyncClient(base_url=tls_server.app_url, headers=tls_server.headers,
                                 verify=tls_server.trust, timeout=10) as http:
        meeting = (await http.post("/meetings", json={"title": "over TLS"})).json()["data"]
        added = await http.post(f"/meetings/{meeting['id']}/participants", json={
            "custom_participant_id": "host", "preset_name": "group_call_host", "name": "Hal"})
        token = added.json()["data"]["token"]
    gateway = tls_server.base.replace("https", "wss", 1) + "/realtime/v1"
    with pytest.raises((ssl.SSLError, websockets.InvalidHandshake, OSError)):
        await RealtimeClient.join(gateway, token)  # the system does not trust the cert
    host = await RealtimeClient.join(gateway, token, ssl=tls_server.trust)
    try:
        assert host.status == "joined"
        # The recorder is a bot of the server: it joins the gateway on loopback and only
        # then records (tests/fake_recorder.py gives up when it cannot join).
        await host.request("recording.start")
        await host.wait_for("recording.updated",
                            lambda data: data["recording"]["status"] == "RECORDING", timeout=20)
        await host.request("recording.stop")
    finally:
        await host.leave()


async def test_demo_links_are_https_and_join_over_wss(tls_server: TlsServer) -> None:
    demo = json.loads(run_cli(tls_server.env, "demo", "--json").stdout)
    assert demo["base_url"] == tls_server.base and demo["server_running"] is True
    assert demo["guest"]["url"].startswith(f"{tls_server.base}/meet#token=")
    gateway = tls_server.base.replace("https", "wss", 1) + "/realtime/v1"
    guest = await RealtimeClient.join(gateway, demo["guest"]["token"], ssl=tls_server.trust)
    try:
        assert guest.status == "joined"
        assert guest.joined["room"]["meeting"]["title"] == "Demo meeting"
    finally:
        await guest.leave()
