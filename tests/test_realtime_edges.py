"""Edges of the realtime protocol (docs/protocol.md), on a real server with a short idle
timeout: how connections end, what a connection may send, what the server sends."""

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
import websockets

from salon.client import RealtimeClient, RealtimeError, ws_url
from salon.realtime.commands import COMMANDS
from tests.live import FAST, Meeting, admin_for
from tests.servers import SalonServer, running
from tests.test_budgets import PROTOCOL_DOC

IDLE_SECS = 1.0
MAX_PEERS = 2
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture(scope="module")
def edge_server() -> Iterator[SalonServer]:
    env = {**FAST, "SALON_REALTIME_IDLE_TIMEOUT_SECS": str(IDLE_SECS),
           "SALON_MAX_PEERS_PER_PARTICIPANT": str(MAX_PEERS)}
    with running("", env=env) as server:
        yield server


class KeptAlive(Meeting):
    """Peers ping well within the short idle timeout, unless a test says otherwise."""

    async def connect(self, token: str, **options: Any) -> RealtimeClient:
        options.setdefault("keep_alive", IDLE_SECS / 4)
        return await super().connect(token, **options)


@pytest.fixture
async def meeting(edge_server: SalonServer) -> AsyncIterator[Meeting]:
    async with admin_for(edge_server) as admin:
        created = KeptAlive(edge_server, admin, await admin.create_meeting(title="edges"))
        try:
            yield created
        finally:
            await created.close()


async def _raw_join(server: SalonServer, token: str) -> tuple[Any, dict[str, Any]]:
    """A bare `websockets` connection (no client keep-alive) that has joined."""
    ws = await websockets.connect(ws_url(server.url))
    await ws.send(orjson.dumps({"id": 1, "type": "join",
                                "data": {"token": token, "protocol": 1}}))
    reply = orjson.loads(await ws.recv())
    assert reply["ok"], reply
    return ws, reply["data"]


async def _reply(ws: Any, request_id: int) -> dict[str, Any]:
    while True:
        message = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        if message.get("type") == "reply" and message.get("id") == request_id:
            return message


# --- the idle drop ---------------------------------------------------------------------------


async def test_an_idle_drop_closes_with_its_own_code_and_the_peer_resumes(
        meeting: Meeting) -> None:
    participant = await meeting.participant()
    silent = await meeting.connect(participant["token"], keep_alive=None)
    await asyncio.wait_for(silent.closed.wait(), IDLE_SECS + 3)
    assert silent.close_code == 4007  # not 1000, which means "left"
    back = await meeting.connect(participant["token"], resume=silent.resume_info)
    assert back.joined["resumed"] is True and back.peer_id == silent.peer_id


async def test_websocket_ping_frames_keep_a_connection_alive(meeting: Meeting) -> None:
    participant = await meeting.participant()
    ws, joined = await _raw_join(meeting.server, participant["token"])
    try:
        for _ in range(int(IDLE_SECS * 3 / 0.3)):  # three idle windows of ping frames only
            pong = await ws.ping()
            await asyncio.wait_for(pong, 2)
            await asyncio.sleep(0.3)
        await ws.send(orjson.dumps({"id": 2, "type": "ping"}))
        assert (await _reply(ws, 2))["data"] == {"pong": True}
        await asyncio.sleep(IDLE_SECS + 1)  # and silence still drops it
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 3)
        assert ws.close_code == 4007
    finally:
        await ws.close()


# --- peers per participant -------------------------------------------------------------------


async def test_a_participant_has_at_most_the_configured_number_of_peers(
        meeting: Meeting) -> None:
    participant = await meeting.participant()
    token = participant["token"]
    peers = [await meeting.connect(token) for _ in range(MAX_PEERS)]
    with pytest.raises(RealtimeError) as refused:
        await meeting.connect(token)
    assert refused.value.code == "TOO_MANY_PEERS"
    ws = await websockets.connect(ws_url(meeting.server.url))
    await ws.send(orjson.dumps({"id": 1, "type": "join", "data": {"token": token,
                                                                  "protocol": 1}}))
    assert orjson.loads(await ws.recv())["error"]["code"] == "TOO_MANY_PEERS"
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 3)
    assert ws.close_code == 4009
    # Another participant is not concerned.
    await meeting.join()
    # A dropped peer holds its place, and resuming it is no new peer.
    await peers[0].close()
    with pytest.raises(RealtimeError, match="TOO_MANY_PEERS"):
        await meeting.connect(token)
    resumed = await meeting.connect(token, resume=peers[0].resume_info)
    assert resumed.joined["resumed"] is True
    # Leaving frees a place.
    await peers[1].leave()
    third = await meeting.connect(token)
    assert third.status == "joined"


# --- a second join ----------------------------------------------------------------------------


async def test_a_second_join_is_refused_and_the_connection_carries_on(
        meeting: Meeting) -> None:
    participant = await meeting.participant()
    peer = await meeting.connect(participant["token"])
    with pytest.raises(RealtimeError) as refused:
        await peer.request("join", token=participant["token"], protocol=1)
    assert refused.value.code == "ALREADY_JOINED"
    assert (await peer.ping())["pong"] and not peer.closed.is_set()


async def test_a_refused_join_quoting_wide_characters_still_closes_with_its_code(
        meeting: Meeting) -> None:
    """The close reason is the refusal's message cut to a close frame's 123 bytes: cut
    by characters, a message quoting a non-ASCII field name failed the close (1006, "may
    resume") instead of 4000."""
    participant = await meeting.participant()
    ws = await websockets.connect(ws_url(meeting.server.url))
    await ws.send(orjson.dumps({"id": 1, "type": "join", "data": {
        "token": participant["token"], "protocol": 1, "é" * 60: 1}}))
    reply = orjson.loads(await ws.recv())
    assert reply["ok"] is False and reply["error"]["code"] == "INVALID", reply
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4000
    assert len(ws.close_reason.encode()) <= 123 and ws.close_reason.startswith(
        reply["error"]["message"][:10])


async def test_any_json_number_is_a_request_id(meeting: Meeting) -> None:
    """protocol.md: `id` is any number or string; the reply carries it back."""
    participant = await meeting.participant()
    ws, _ = await _raw_join(meeting.server, participant["token"])
    try:
        for raw_id, echoed in ((b"1.5", 1.5), (b"1e3", 1000), (b"18446744073709551616", 2.0 ** 64)):
            await ws.send(b'{"id": ' + raw_id + b', "type": "ping"}')
            while True:
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                if message.get("type") == "reply":
                    break
            assert message["ok"] and message["id"] == echoed, message
    finally:
        await ws.close()


async def test_integer_fields_refuse_strings_and_booleans(meeting: Meeting) -> None:
    """The schema says `integer`: `"2"` or `true` is INVALID, as on every integer field."""
    participant = await meeting.participant()
    peer = await meeting.connect(participant["token"])
    for kind, data in (("peers.list", {"limit": "2"}), ("peers.list", {"limit": True}),
                       ("chat.history", {"limit": "3"}), ("chat.pinned", {"limit": True}),
                       ("media.subscribe_answer", {"revision": "1", "sdp": "v=0"})):
        with pytest.raises(RealtimeError) as refused:
            await peer.request(kind, **data)
        assert refused.value.code == "INVALID", (kind, data)
    assert (await peer.request("peers.list", limit=2.0))["peers"] is not None  # 2.0 is 2


# --- timestamps -------------------------------------------------------------------------------


def _timestamps(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _timestamps(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _timestamps(item, f"{path}[{index}]")
    elif isinstance(value, str) and LOOKS_LIKE_TIME.match(value):
        yield path, value


async def test_every_timestamp_has_one_format(meeting: Meeting) -> None:
    first = await meeting.join("group_call_host")
    second = await meeting.join()
    seen = [("join", first.joined), ("join", second.joined)]
    await first.wait_for("peer.joined")
    await first.broadcast("wave", {"x": 1})
    await first.send_text("hello")
    await second.request("qna.ask", text="why?")
    await first.request("poll.create", question="Tea?", options=["yes", "no"])
    seen.append(("state", await second.state()))
    await asyncio.sleep(0.3)
    seen += [("event", data) for data in second.drain() + first.drain()]
    found = [(where, value) for _, data in seen for where, value in _timestamps(data)]
    assert any(where.endswith("joined_at") for where, _ in found)
    assert any(where.endswith("timestamp") for where, _ in found)
    wrong = [(where, value) for where, value in found if not TIMESTAMP.match(value)]
    assert not wrong, wrong


# --- entry shapes -----------------------------------------------------------------------------


def _documented_entry_fields() -> list[str]:
    """The field column of the WaitingEntry table in docs/protocol.md."""
    section = PROTOCOL_DOC.read_text().split("**WaitingEntry**", 1)[1].split("\n\n**", 1)[0]
    return [line.split("|")[1].strip().strip("`") for line in section.splitlines()
            if line.startswith("| `")]


async def test_waiting_and_stage_request_entries_are_as_documented(meeting: Meeting) -> None:
    fields = _documented_entry_fields()
    assert "peer_id" in fields and "preset_name" in fields
    await meeting.admin.create_preset(
        f"lobby_{meeting.id[:8]}", permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    host = await meeting.join("group_call_host")
    waiting = await meeting.join(f"lobby_{meeting.id[:8]}", name="Early")
    added = await host.wait_for("waitlist.added")
    listed = (await host.waiting())
    assert list(added["peer"]) == fields
    assert [list(entry) for entry in listed] == [fields]
    assert listed[0]["peer_id"] == waiting.peer_id and listed[0]["name"] == "Early"

    presenter = await meeting.join("webinar_presenter")
    viewer = await meeting.join("webinar_viewer", name="Viewer")
    await viewer.stage("request")
    pushed = await presenter.wait_for("stage.requests", lambda d: d["requests"])
    requests = (await presenter.stage("list_requests"))["requests"]
    assert [list(entry) for entry in pushed["requests"]] == [fields]
    assert [list(entry) for entry in requests] == [fields]
    assert requests[0]["peer_id"] == viewer.peer_id


# --- unknown fields ---------------------------------------------------------------------------


async def test_every_request_type_refuses_unknown_fields(meeting: Meeting) -> None:
    peer = await meeting.join("group_call_host")
    for kind in dict.fromkeys(["ping", "leave", *COMMANDS]):  # once took any fields
        with pytest.raises(RealtimeError) as refused:
            await peer.request(kind, zz_unknown=1)
        assert refused.value.code == "INVALID", kind
        assert "zz_unknown" in refused.value.message, kind
    assert not peer.closed.is_set()  # `leave` with a stray field did not leave
    assert (await peer.ping())["pong"]
