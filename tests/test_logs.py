"""Logs: one JSON object per line with SALON_LOG_FORMAT=json, carrying the request id
and (on realtime connections) the app, meeting, session and peer; readable text by
default; and never a token or secret, in either format, whatever the server logs."""

import json
import logging
import os
import sys
from collections.abc import Iterator

import httpx
import pytest

from salon.client import RealtimeClient, ws_url
from salon.observability import context
from salon.observability.logs import JsonFormatter, TextFormatter
from salon.observability.redact import MASK, redact
from tests.live import admin_for, eventually
from tests.servers import SalonServer, cleanup, free_port, run_cli, start

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwYXJ0aWNpcGFudCJ9."
       "c2lnbmF0dXJlLWJ5dGVzLWhlcmU")
API_TOKEN = "salon_" + "A1b2C3d4" * 5 + "xyz"


# --- the formatters, in process ---------------------------------------------------------

def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"failed with {JWT}")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("salon.test", logging.WARNING, __file__, 1, message, args,
                             exc_info)


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()],
                         ids=["json", "text"])
def test_secrets_are_masked_in_messages_arguments_and_tracebacks(formatter) -> None:
    secrets = {
        "bearer": (f"Authorization: Bearer {API_TOKEN}", API_TOKEN),
        "api token": (f"token {API_TOKEN} in text", API_TOKEN),
        "jwt": (f"joined with {JWT}", JWT),
        "fragment": (f"GET /meet#token={JWT}", JWT),
        "cut short": ("< TEXT '{\"token\":\"eyJhbGci...xcEz65A\"}' [385 bytes]", "xcEz65A"),
        "frame tail": ("< BINARY '{\"id\":2,\"type\":\"chat.send\"...F14lsRtfRJ\"}}' "
                       "[text, 385 bytes]", "F14lsRtfRJ"),
        "query": ("GET /realtime/v1?token=opaque-value-123&x=1", "opaque-value-123"),
        "signature": ("GET /chat-exports/s.csv?expires=1&signature=abc123def", "abc123def"),
        "url password": ("redis://:hunter2pass@127.0.0.1:6379/0", "hunter2pass"),
        "headers": ("{'authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        "asgi scope": ("[(b'host', b'x'), (b'authorization', b'Token t0k3n-v4lue')]",
                       "t0k3n-v4lue"),
        "header line": ("Authorization: Token t0k3n-v4lue", "t0k3n-v4lue"),
        "pem": ("key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
                "MIIEvQIBADANBg"),
    }
    for name, (text, secret) in secrets.items():
        line = formatter.format(_record("%s", text))
        assert secret not in line, (name, line)
        assert MASK in line, (name, line)
    line = formatter.format(_record("request failed", exc=True))
    assert "Traceback" in line and "RuntimeError" in line
    assert JWT not in line


def test_json_lines_carry_the_context() -> None:
    token = context.request_id.set("req-1")
    try:
        context.bind(meeting_id="m-1", peer_id="p-1")
        line = json.loads(JsonFormatter().format(_record("peer %s", "joined")))
    finally:
        context.request_id.reset(token)
        context.bind(meeting_id=None, peer_id=None)
    assert line["message"] == "peer joined"
    assert line["level"] == "warning" and line["logger"] == "salon.test"
    assert line["request_id"] == "req-1"
    assert line["meeting_id"] == "m-1" and line["peer_id"] == "p-1"
    assert "app_id" not in line  # unknown fields are left out, not null
    assert line["ts"].endswith("Z")


def test_plain_text_is_left_alone() -> None:
    for text in ("peer 0e4f3173-aaaa joined meeting 1234 in 3.2 ms (route /meetings/{meeting_id})",
                 "no authorization, so the request was refused",
                 "GET /client/v4/accounts/{account_id}/realtime/kit/{app_id}/meetings 200"):
        assert redact(text) == text


# --- real servers ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=["json", "text"])
def logged(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    salon = start("", env={"SALON_LOG_FORMAT": request.param, "SALON_ACCESS_LOG": "true",
                           "SALON_LOG_LEVEL": "debug", "SALON_MEDIA_BACKEND": "none",
                           "SALON_WEBHOOK_MAX_ATTEMPTS": "1"})
    try:
        yield salon
    finally:
        cleanup(salon)


async def test_no_secret_reaches_the_log(logged: SalonServer) -> None:
    closed = free_port()
    hook_secret, hook_password, bogus = "hooksecret-7f3a", "hookpass-91c2", "salon_" + "Z" * 43
    async with admin_for(logged) as admin:
        meeting = await admin.create_meeting(title="Secrets")
        for name, url in (("q", f"http://127.0.0.1:{closed}/hook?token={hook_secret}&a=1"),
                          ("s", f"http://127.0.0.1:{closed}/hook?api_key={hook_password}")):
            await admin.call("POST", "/webhooks", json={
                "name": name, "url": url, "events": ["meeting.started"]})
        person = await admin.add_participant(meeting["id"], "secret-keeper",
                                             "group_call_participant", name="Keeper")
        jwt = person["token"]
        assert httpx.get(f"{logged.url}/meet/ui",
                         headers={"Authorization": f"Bearer {jwt}"}).status_code == 200
        httpx.get(f"{logged.url}/meet", params={"token": jwt})
        assert httpx.get(f"{logged.app_url}/meetings",
                         headers={"Authorization": f"Bearer {bogus}"}).status_code == 401
        peer = await RealtimeClient.join(ws_url(logged.url) + f"?token={jwt}", jwt,
                                         keep_alive=None)
        await peer.send_text(f"my token is {jwt}")
        await peer.leave()
        # Both deliveries fail (nothing listens) and are logged, URL and all.
        await eventually(lambda: logged.log().count("failed after 1 attempts") >= 2,
                         timeout=10)
        for hook in await admin.call("GET", "/webhooks"):
            await admin.call("DELETE", f"/webhooks/{hook['id']}")
    log = logged.log()
    for secret in (logged.api_token, jwt, hook_secret, hook_password, bogus):
        assert secret not in log, secret
    # Parts of tokens neither: the signature of the JWT, the API token's random part.
    assert jwt.rsplit(".", 1)[1] not in log
    assert jwt[-7:] not in log  # the tail websockets' debug lines show of a long frame
    assert logged.api_token.removeprefix("salon_") not in log
    assert "token=" + MASK in log  # the webhook URL was logged, masked
    assert "Traceback" not in log


async def test_json_lines_name_the_request_and_the_peer(logged: SalonServer) -> None:
    if logged.extra_env["SALON_LOG_FORMAT"] != "json":
        pytest.skip("JSON lines only")
    async with admin_for(logged) as admin:
        meeting = await admin.create_meeting(title="Traced")
        person = await admin.add_participant(meeting["id"], "traced", "group_call_participant")
    answered = httpx.get(f"{logged.url}/healthz", headers={"X-Request-Id": "lb-1234.abc"})
    assert answered.headers["x-request-id"] == "lb-1234.abc"
    made = httpx.get(f"{logged.url}/healthz", headers={"X-Request-Id": "bad id\twith space"})
    made_id = made.headers["x-request-id"]
    assert made_id != "bad id\twith space" and len(made_id) == 16
    too_long = httpx.get(f"{logged.url}/healthz", headers={"X-Request-Id": "a" * 129})
    assert too_long.headers["x-request-id"] != "a" * 129
    peer = await RealtimeClient.join(ws_url(logged.url), person["token"], keep_alive=None)
    session_id = peer.joined["room"]["session_id"]
    await peer.leave()
    await eventually(lambda: "peer connection closed" in logged.log())

    lines = [json.loads(line) for line in logged.log().splitlines() if line.strip()]
    assert all(isinstance(line, dict) and {"ts", "level", "logger", "message"} <= set(line)
               for line in lines)
    access = [line for line in lines if line["logger"] == "salon.access"]
    assert access and all(line.get("request_id") for line in access)
    by_id = {line["request_id"]: line for line in access}
    assert by_id["lb-1234.abc"]["route"] == "/healthz"
    assert by_id["lb-1234.abc"]["status"] == 200
    assert by_id[made_id]["path"] == "/healthz"
    meeting_lines = [line for line in access if line.get("meeting_id") == meeting["id"]]
    assert {line["route"] for line in meeting_lines} == {
        "/client/v4/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}"
        "/participants"}
    assert meeting_lines[0]["app_id"] == logged.app_id
    joined = [line for line in lines if line["message"] == "peer joined"
              and line.get("peer_id") == peer.peer_id]
    assert len(joined) == 1
    assert joined[0]["meeting_id"] == meeting["id"]
    assert joined[0]["session_id"] == session_id
    assert joined[0]["app_id"] == logged.app_id
    assert joined[0]["request_id"]


async def test_text_lines_are_readable(logged: SalonServer) -> None:
    if logged.extra_env["SALON_LOG_FORMAT"] != "text":
        pytest.skip("text lines only")
    httpx.get(f"{logged.url}/healthz", headers={"X-Request-Id": "text-req-1"})
    await eventually(lambda: "text-req-1" in logged.log())
    line = next(line for line in logged.log().splitlines() if "text-req-1" in line)
    assert " INFO salon.access GET /healthz 200 " in line
    assert line.endswith("[request_id=text-req-1]")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_a_bad_setting_is_refused_in_words(tmp_path) -> None:
    env = {**os.environ, "SALON_DATA_DIR": str(tmp_path),
           "SALON_LOG_FORMAT": "xml", "SALON_METRICS": "maybe"}
    done = run_cli(env, "serve", "--port", str(free_port()), check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "SALON_LOG_FORMAT: Input should be 'text' or 'json'" in done.stderr
    assert "SALON_METRICS: Input should be 'on' or 'off'" in done.stderr


def test_every_answer_carries_its_request_id(server: SalonServer) -> None:
    """Successes and errors alike, refused before routing included."""
    answers = {
        "ok": httpx.get(f"{server.app_url}/meetings", headers={
            **server.headers, "X-Request-Id": "id-ok"}),
        "no token": httpx.post(f"{server.app_url}/meetings", json={},
                               headers={"X-Request-Id": "id-401"}),
        "no route": httpx.get(f"{server.url}/nowhere", headers={"X-Request-Id": "id-404"}),
        "invalid": httpx.post(f"{server.app_url}/meetings", json={"title": 5}, headers={
            **server.headers, "X-Request-Id": "id-400"}),
    }
    assert [a.status_code for a in answers.values()] == [200, 401, 404, 400]
    assert [a.headers["x-request-id"] for a in answers.values()] == [
        "id-ok", "id-401", "id-404", "id-400"]
    fresh = {httpx.get(f"{server.url}/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(fresh) == 3  # a new id for each request that brings none


def test_no_access_log_unless_asked(server: SalonServer) -> None:
    """SALON_ACCESS_LOG is off by default: requests leave no line of their own."""
    httpx.get(f"{server.url}/healthz", headers={"X-Request-Id": "quiet-request-1"})
    assert "quiet-request-1" not in server.log()
    assert "salon.access" not in server.log()
