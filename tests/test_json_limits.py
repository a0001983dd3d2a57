"""Deeply nested JSON: refused at the edges, so whatever is kept can always be sent back.

orjson, which renders every reply, event and REST answer, gives up past 254 levels while
parsers take ~1000; salon refuses more than 32 levels (`salon.core.jsonsize`).
"""

import asyncio
import json
import sqlite3
from typing import Any

import httpx
import pytest

from salon.client import RealtimeClient, RealtimeError
from salon.core.jsonsize import MAX_DEPTH, deeper_than, encoded_size, storable_problem
from salon.realtime.protocol import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES
from tests.live import FAST, Meeting, admin_for
from tests.servers import cleanup, start


def nest(levels: int, leaf: Any = 1) -> Any:
    """`levels` objects one inside the other around `leaf`."""
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


async def raw_request(peer: RealtimeClient, request_id: int, kind: str,
                      **data: Any) -> dict[str, Any]:
    """Send with Python's json (orjson cannot even write 300 levels) and await the reply."""
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    peer.pending[request_id] = future
    await peer.send_raw(json.dumps({"id": request_id, "type": kind, "data": data}))
    try:
        return await asyncio.wait_for(future, 5)
    finally:
        peer.pending.pop(request_id, None)


# --- the helper ---------------------------------------------------------------------------


def test_depth_and_storable_checks() -> None:
    assert not deeper_than(1) and not deeper_than("x" * 100)
    assert not deeper_than(nest(MAX_DEPTH)) and deeper_than(nest(MAX_DEPTH + 1))
    assert deeper_than([[[[]]]], 3) and not deeper_than([[[]], [[]]], 3)
    assert not deeper_than(nest(10_000), 10_001)  # no recursion, whatever the depth
    assert storable_problem(nest(MAX_DEPTH)) is None
    assert "levels" in storable_problem(nest(MAX_DEPTH + 1))
    assert "NUL" in storable_problem({"a": ["ok", "n\x00"]})
    assert "NUL" in storable_problem({"k\x00": 1})
    assert "finite" in storable_problem({"a": float("nan")})
    assert "64 bits" in storable_problem([{"": 2 ** 64}])
    assert "64 bits" in storable_problem(-(2 ** 63) - 1)
    assert storable_problem({"a": [2 ** 64 - 1, -(2 ** 63), True, None]}) is None
    assert "2^63" in storable_problem({"a": 1e300})
    assert "2^63" in storable_problem([-9.3e18])
    assert storable_problem([9.2e18, 1e-300]) is None
    assert encoded_size({"é": 1}) == len('{"é":1}'.encode())
    with pytest.raises(ValueError, match="JSON"):
        encoded_size(nest(300))


# --- realtime -----------------------------------------------------------------------------


async def test_deep_messages_are_refused_before_any_command(room: Meeting) -> None:
    await room.admin.update_meeting(room.id, persist_chat=True)
    host = await room.join("group_call_host")
    other = await room.join("group_call_host")
    requests = [("store.set", {"store": "s", "key": "k", "value": nest(300)}),
                ("broadcast", {"type": "x", "payload": nest(300)}),
                ("chat.send", {"type": "custom", "payload": nest(300)}),
                ("chat.send", {"type": "custom", "payload": nest(MAX_DEPTH)})]
    for request_id, (kind, data) in enumerate(requests, start=100):
        with pytest.raises(RealtimeError) as refused:
            await raw_request(host, request_id, kind, **data)
        assert refused.value.code == "BAD_MESSAGE", refused.value
        assert str(MAX_DEPTH) in refused.value.message
    # Nothing was kept or sent: history reads, and nobody heard of the refused requests.
    assert (await other.request("chat.history"))["messages"] == []
    await host.request("chat.send", text="still here")
    assert [m["payload"] for m in (await other.request("chat.history"))["messages"]] == [
        {"text": "still here"}]
    assert not other.drain("broadcast") and not other.drain("chat.message")[1:]
    # Just inside the limit (the message object and `data` are two of the levels).
    stored = await raw_request(host, 200, "store.set", store="s", key="k",
                               value=nest(MAX_DEPTH - 3))
    assert stored["changes"][0]["value"] == nest(MAX_DEPTH - 3)
    assert await host.ping() == {"pong": True}


async def test_custom_chat_payloads_must_be_storable(room: Meeting) -> None:
    """PostgreSQL keeps no NUL in JSON: such a payload is refused, on every database."""
    host = await room.join("group_call_host")
    for payload in ({"a": "x\x00y"}, {"k\x00": 1}):
        with pytest.raises(RealtimeError) as refused:
            await host.request("chat.send", type="custom", payload=payload)
        assert refused.value.code == "INVALID" and "NUL" in refused.value.message
    assert (await host.request("chat.history"))["messages"] == []


async def test_a_reply_that_cannot_be_written_is_an_internal_error_not_a_dropped_socket(
) -> None:
    """A row stored before the edge refused such values must not kill the connection."""
    server = start("", env=FAST)
    try:
        async with admin_for(server) as admin:
            meeting = Meeting(server, admin, await admin.create_meeting(persist_chat=True))
            peer = await meeting.join("group_call_host")
            sent = await peer.request("chat.send", type="custom", payload={"a": 1})
            with sqlite3.connect(server.data_dir / "salon.db") as db:
                db.execute("UPDATE chat_messages SET payload = ? WHERE id = ?",
                           (json.dumps(nest(300)), sent["message"]["id"]))
            with pytest.raises(RealtimeError) as failed:
                await peer.request("chat.history")
            assert failed.value.code == "INTERNAL", failed.value
            assert await peer.ping() == {"pong": True}
            assert not peer.closed.is_set()
            await meeting.close()
    finally:
        cleanup(server)


# --- REST ---------------------------------------------------------------------------------


def _send(http: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    return http.request(method, path, content=json.dumps(body),
                        headers={"content-type": "application/json"})


def test_free_form_json_in_rest_bodies_is_bounded(http: httpx.Client) -> None:
    for levels in (MAX_DEPTH + 1, 300, 900):
        body = {"name": f"deep_{levels}", "ui": {"config_diff": nest(levels)}}
        created = _send(http, "POST", "/presets", body)
        assert created.status_code == 400, created.text
        assert "config_diff" in created.json()["error"]["message"]
    ok = _send(http, "POST", "/presets", {"name": "deep_ok",
                                          "ui": {"config_diff": nest(MAX_DEPTH)}})
    assert ok.status_code == 201, ok.text
    preset = ok.json()["data"]
    assert preset["ui"]["config_diff"] == nest(MAX_DEPTH)
    patched = _send(http, "PATCH", f"/presets/{preset['id']}",
                    {"ui": {"config_diff": nest(300)}})
    assert patched.status_code == 400, patched.text
    put = _send(http, "PUT", f"/presets/{preset['id']}",
                {"name": "deep_ok", "ui": {"config_diff": {"x": nest(300)}}})
    assert put.status_code == 400, put.text
    assert http.get(f"/presets/{preset['id']}").json()["data"]["ui"]["config_diff"] == nest(
        MAX_DEPTH)
    # NaN is no JSON (Python's parser takes it; PostgreSQL does not).
    nan = http.post("/presets", content=b'{"name": "nan", "ui": {"config_diff": {"a": NaN}}}',
                    headers={"content-type": "application/json"})
    assert nan.status_code == 400, nan.text
    # An integer past 64 bits: Python's parser reads it, orjson cannot write it back.
    huge = http.post("/presets", content=b'{"name": "huge", "ui": {"config_diff": '
                     b'{"a": 177492678614712152227840}}}',
                     headers={"content-type": "application/json"})
    assert huge.status_code == 400 and "64 bits" in huge.text, huge.text
    # A float as large: PostgreSQL's jsonb keeps 1e300 as a 301-digit integer, which
    # would come back past 64 bits on every read (the fuzzer found it).
    vast = http.post("/presets", content=b'{"name": "vast", "ui": {"config_diff": '
                     b'{"a": 1e300}}}', headers={"content-type": "application/json"})
    assert vast.status_code == 400 and "2^63" in vast.text, vast.text
    small = http.post("/presets", json={"name": "small_float", "ui": {"config_diff": {
        "a": 1.5e18, "b": -2.5e-300}}})
    assert small.status_code == 201, small.text
    read = http.get(f"/presets/{small.json()['data']['id']}").json()["data"]
    assert read["ui"]["config_diff"] == {"a": 1.5e18, "b": -2.5e-300}


def test_a_broadcast_payload_must_be_json_salon_can_send(http: httpx.Client,
                                                        meeting: dict) -> None:
    """Found by fuzzing: a connected-meetings broadcast whose payload held an integer
    past 64 bits was a 500 (orjson refused to write the event)."""
    response = http.post(f"/meetings/{meeting['id']}/connected_meetings/broadcast",
                         content=b'{"message": "hi", "payload": [{"": '
                                 b'177492678614712152227840}, [], null]}',
                         headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "payload" in response.json()["error"]["message"]


def test_deep_bodies_elsewhere_are_400s(http: httpx.Client, meeting: dict) -> None:
    url = f"/meetings/{meeting['id']}"
    for body in ({"ai_config": nest(900)}, {"recording_config": {"x": nest(300)}},
                 {"title": nest(300)}):
        response = _send(http, "PATCH", url, body)
        assert response.status_code == 400, response.text
    too_deep_to_parse = '{"a":' * 3000 + "1" + "}" * 3000
    response = http.post("/meetings", content=too_deep_to_parse,
                         headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert http.get(url).status_code == 200


# --- message size -------------------------------------------------------------------------


def _framed(data: dict[str, Any], request_id: int = 1) -> str:
    return json.dumps({"id": request_id, "type": "broadcast", "data": data},
                      ensure_ascii=False)


async def test_the_size_limit_counts_bytes_not_characters(room: Meeting) -> None:
    host = await room.join("group_call_host")
    other = await room.join()
    overhead = len(_framed({"type": "x", "payload": ""}, 301).encode())
    # 2-byte characters: fewer than 64 Ki characters, more than 64 KiB.
    wide = "é" * ((MAX_MESSAGE_BYTES - overhead) // 2 + 1)
    framed = _framed({"type": "x", "payload": wide}, 300)
    assert len(framed) < MAX_MESSAGE_BYTES < len(framed.encode())
    await host.send_raw(framed)
    refused = await host.wait_for("error")
    assert refused["code"] == "BAD_MESSAGE" and "bytes" in refused["message"]
    # Just inside the limit, in bytes.
    fits = "é" * ((MAX_MESSAGE_BYTES - overhead) // 2)
    framed = _framed({"type": "x", "payload": fits}, 301)
    assert len(framed.encode()) <= MAX_MESSAGE_BYTES
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    host.pending[301] = future
    await host.send_raw(framed)
    assert (await asyncio.wait_for(future, 5)) == {"delivered_to": 1}
    assert (await other.wait_for("broadcast"))["payload"] == fits
    assert not other.drain("broadcast")


async def test_a_message_past_the_frame_limit_closes_the_connection(room: Meeting) -> None:
    host = await room.join("group_call_host")
    other = await room.join()
    await host.send_raw(_framed({"type": "x", "payload": "x" * MAX_FRAME_BYTES}))
    await asyncio.wait_for(host.closed.wait(), 5)
    assert host.close_code == 1009
    assert await other.ping() == {"pong": True}
    assert not other.drain("broadcast")
