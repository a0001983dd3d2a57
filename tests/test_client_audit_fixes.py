"""The Python client as docs/client.md describes it: a peer let in from the waiting room
is joined with the room it was given; over HTTPS, AdminClient and a peer's chat files
verify the server with the context the caller passes; recordings and the livestream
have named methods."""

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from salon.client import AdminClient, RealtimeClient, RealtimeError
from tests import contract
from tests.live import Meeting, admin_for, ids
from tests.recording_helpers import recording_server
from tests.servers import SalonServer
from tests.test_https import TlsServer, tls_server  # noqa: F401 (the HTTPS server fixture)

# --- the waiting room -----------------------------------------------------------------------


async def test_an_admitted_peer_is_joined_with_the_room_it_was_admitted_to(room: Meeting
                                                                           ) -> None:
    lobby = f"lobby_audit_{room.id[:8]}"
    await room.admin.create_preset(lobby,
                                   permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    host = await room.join("group_call_host", name="Host")
    guest = await room.join(name="Guest")
    waiting = await room.join(lobby, name="Waiting")
    assert waiting.status == "waiting" and "room" not in waiting.joined
    assert waiting.counts == {}

    await host.admit([waiting.peer_id])
    admitted = await waiting.wait_for("self.admitted")
    assert waiting.status == "joined"
    assert waiting.joined["self"] == admitted["self"]
    assert waiting.joined["self"]["status"] == "joined"
    assert waiting.joined["room"] == admitted["room"]
    assert ids(waiting.joined["room"]["peers"]) >= {host.peer_id, guest.peer_id,
                                                    waiting.peer_id}
    assert waiting.counts == admitted["room"]["counts"]
    assert waiting.counts["participants"] == 3
    # still the same peer, and resumable as one
    assert waiting.resume_info["peer_id"] == waiting.peer_id
    assert (await waiting.state())["status"] == "joined"


async def test_a_moved_peer_counts_the_room_it_moved_to(room: Meeting) -> None:
    """`peer.counts` follows `meeting.changed` (it kept the old room's counts)."""
    host = await room.join("group_call_host", name="Host")
    await room.join(name="Stays")
    mover = await room.join(name="Mover")
    assert mover.counts["participants"] == 3
    child, = await host.create_connected(["Side room"])
    await mover.switch_meeting(child["id"])
    changed = await mover.wait_for("meeting.changed")
    assert mover.meeting_id == child["id"]
    assert mover.counts == changed["room"]["counts"]
    assert mover.counts["participants"] == 1


def test_an_answer_that_is_no_envelope_is_an_api_error() -> None:
    """A proxy's HTML 502 page (or an empty 503) in front of salon: `ApiError` with the
    status and the page's first words, as client.md says (it was a JSONDecodeError)."""
    import asyncio
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from salon.client.admin import AdminClient, ApiError

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = b"" if "empty" in self.path else b"<html><h1>502 Bad Gateway</h1></html>"
            self.send_response(502 if body else 503)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    async def ask(path: str) -> ApiError:
        admin = AdminClient(f"http://127.0.0.1:{server.server_address[1]}", "acc", "app", "t")
        try:
            with pytest.raises(ApiError) as failed:
                await admin.call("GET", path)
            return failed.value
        finally:
            await admin.close()
    try:
        html = asyncio.run(ask("/meetings"))
        assert html.status == 502
        assert html.message == "not a JSON answer from the server: <html><h1>502 Bad Gateway" \
                               "</h1></html>"
        empty = asyncio.run(ask("/empty"))
        assert (empty.status, empty.message) == (503, "an empty answer from the server")
    finally:
        server.shutdown()


# --- TLS --------------------------------------------------------------------------------------


def _credentials(server: TlsServer) -> tuple[str, str, str]:
    """The account id, app id and API token of the HTTPS server's app."""
    found = re.search(r"/accounts/([^/]+)/realtime/kit/([^/]+)$", server.app_url)
    assert found, server.app_url
    token = server.headers["Authorization"].removeprefix("Bearer ")
    return found.group(1), found.group(2), token


async def test_admin_client_and_chat_files_verify_https_with_the_given_context(
    tls_server: TlsServer  # noqa: F811 (the fixture imported above)
) -> None:
    # the answers are checked against the API's document, as everywhere
    document = httpx.get(f"{tls_server.base}/openapi.json", verify=tls_server.trust).json()
    contract.CONTRACTS[tls_server.base] = contract.Contract(document)
    account_id, app_id, api_token = _credentials(tls_server)

    async with AdminClient(tls_server.base, account_id, app_id, api_token) as untrusting:
        with pytest.raises(httpx.ConnectError):  # the system does not trust the certificate
            await untrusting.create_meeting(title="refused")

    async with AdminClient(tls_server.base, account_id, app_id, api_token,
                           ssl=tls_server.trust) as admin:
        meeting = await admin.create_meeting(title="files over TLS")
        person = await admin.add_participant(meeting["id"], "ada", "group_call_host",
                                             name="Ada")

    gateway = tls_server.base.replace("https", "wss", 1) + "/realtime/v1"
    peer = await RealtimeClient.join(gateway, person["token"], ssl=tls_server.trust)
    try:
        assert peer.http_url == tls_server.base
        uploaded = await peer.upload_file(b"minutes over TLS\n", "notes.txt", "text/plain")
        assert uploaded["size"] == len(b"minutes over TLS\n")
        assert uploaded["link"].startswith(f"{tls_server.base}/")
        sent = await peer.send_file(uploaded["id"])
        assert sent["type"] == "file" and sent["payload"]["link"] == uploaded["link"]
        body, kind = await peer.download_file(sent["payload"]["link"])
        assert body == b"minutes over TLS\n" and kind.startswith("text/plain")
    finally:
        await peer.leave()


# --- recordings and the livestream ------------------------------------------------------------


@pytest.fixture(scope="module")
def rec_server() -> Iterator[SalonServer]:
    with recording_server("sqlite") as salon:
        yield salon
        assert "Traceback" not in salon.log(), salon.log()


@pytest.fixture
async def rec_room(rec_server: SalonServer) -> AsyncIterator[Meeting]:
    async with admin_for(rec_server) as admin:
        meeting = Meeting(rec_server, admin, await admin.create_meeting(title="recorded"))
        try:
            yield meeting
        finally:
            await meeting.close()


def _status(status: str):  # noqa: ANN202
    return lambda data: data["recording"]["status"] == status


async def test_recording_and_livestream_methods(rec_room: Meeting) -> None:
    host = await rec_room.join("group_call_host", name="Host")
    guest = await rec_room.join(name="Guest")  # no can_record, no can_livestream

    for refused in (guest.start_recording(), guest.stop_recording(),
                    guest.pause_recording(), guest.resume_recording(),
                    guest.start_livestream(name="nope"), guest.stop_livestream()):
        with pytest.raises(RealtimeError) as error:
            await refused
        assert error.value.code == "FORBIDDEN"

    with pytest.raises(RealtimeError) as nothing:
        await host.pause_recording()
    assert nothing.value.code == "CONFLICT"
    with pytest.raises(RealtimeError) as none_running:
        await host.stop_livestream()
    assert none_running.value.code == "NOT_FOUND"

    recording = await host.start_recording()
    assert recording["status"] == "INVOKED" and recording["type"] == "composite"
    seen = await guest.wait_for("recording.updated", _status("INVOKED"))
    assert seen["by_peer_id"] == host.peer_id
    await guest.wait_for("recording.updated", _status("RECORDING"), timeout=20)
    with pytest.raises(RealtimeError) as twice:
        await host.start_recording()
    assert twice.value.code == "CONFLICT"

    paused = await host.pause_recording()
    assert [(r["id"], r["status"]) for r in paused] == [(recording["id"], "PAUSED")]
    resumed = await host.resume_recording(recording["id"])
    assert [(r["id"], r["status"]) for r in resumed] == [(recording["id"], "RECORDING")]
    stopped = await host.stop_recording()
    assert [(r["id"], r["status"], r["stop_reason"]) for r in stopped] == [
        (recording["id"], "UPLOADING", "API_CALL")]
    await guest.wait_for("recording.updated", _status("UPLOADED"), timeout=20)
    with pytest.raises(RealtimeError) as unknown:
        await host.stop_recording("nope")
    assert unknown.value.code == "NOT_FOUND"
