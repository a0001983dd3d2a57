"""The realtime protocol's schema: served, valid, complete, current, and able to fail.

Every other live test checks each message it sees against it (tests/protocol_check.py);
these check the schema itself and that the check bites.
"""

from pathlib import Path

import httpx
import pytest
from jsonschema.validators import validator_for

from salon.realtime.commands import COMMANDS
from salon.realtime.messages import EVENTS, asyncapi, typescript
from tests.live import Meeting
from tests.protocol_check import ProtocolCheck, problem
from tests.servers import SalonServer

DECLARATIONS = Path(__file__).parents[1] / "src/salon/web/sdk/protocol.d.ts"


def test_the_server_serves_its_schema(live_server: SalonServer) -> None:
    response = httpx.get(f"{live_server.url}/realtime/v1/asyncapi.json", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == asyncapi.document()
    assert response.json()["asyncapi"].startswith("3.")


def test_every_schema_is_valid_json_schema() -> None:
    document = asyncapi.document()
    schemas = [*document["components"]["schemas"].values(),
               *(message["payload"] for message in document["components"]["messages"].values())]
    for schema in schemas:
        validator_for(schema).check_schema(schema)
    # One name per type: pydantic spells clashing names `module__path__Name`.
    assert not [name for name in document["components"]["schemas"] if "__" in name]


def test_every_request_reply_and_event_is_in_it() -> None:
    document = asyncapi.document()
    messages = document["components"]["messages"]
    for kind in [*COMMANDS, "join", "ping", "leave"]:
        assert asyncapi.request_message(kind) in messages
        assert asyncapi.reply_message(kind) in messages
        assert document["operations"][asyncapi.request_message(kind)]["action"] == "receive"
    for name in EVENTS:
        assert asyncapi.event_message(name) in messages
    assert set(document["channels"]["realtime"]["messages"]) == set(messages)


def test_error_replies_may_say_when_to_retry() -> None:
    limited = {"type": "reply", "id": 3, "ok": False,
               "error": {"code": "RATE_LIMITED", "message": "…", "retry_after_ms": 250}}
    assert problem(asyncapi.ERROR, limited) is None
    unknown = {**limited, "error": {"code": "OOPS", "message": "…"}}
    assert "$.error.code" in problem(asyncapi.ERROR, unknown)


async def test_a_field_the_schema_does_not_know_fails_the_test(room: Meeting) -> None:
    """The check can fail: a real event with one field more does not match."""
    host = await room.join()
    await room.join()
    joined = await host.wait_for("peer.joined")
    event = {"type": "event", "event": "peer.joined", "data": joined}
    assert problem("event.peer.joined", event) is None
    joined["peer"]["mood"] = "cheerful"
    found = problem("event.peer.joined", event)
    assert found is not None
    assert "event.peer.joined" in found and "$.data.peer" in found and "mood" in found
    check = ProtocolCheck()
    check.received(host, event)
    assert len(check.failures) == 1 and "mood" in check.failures[0]


async def test_a_reply_is_checked_against_its_request_type(room: Meeting) -> None:
    host = await room.join()
    check = ProtocolCheck()
    check.sent(host, {"id": 7, "type": "stage.request", "data": {}})
    check.received(host, {"type": "reply", "id": 7, "ok": True, "data": {"pong": True}})
    assert "reply.stage.request" in check.failures[0]


async def test_a_request_the_schema_refuses_must_be_refused(room: Meeting) -> None:
    host = await room.join()
    check = ProtocolCheck()
    check.sent(host, {"id": 8, "type": "peer.pin", "data": {"peer_id": 5}})
    check.received(host, {"type": "reply", "id": 8, "ok": True,
                          "data": {"pinned_peer_id": None}})
    assert "request.peer.pin" in check.failures[0]
    check = ProtocolCheck()
    check.sent(host, {"id": 9, "type": "peer.pin", "data": {"peer_id": 5}})
    check.received(host, {"type": "reply", "id": 9, "ok": False,
                          "error": {"code": "INVALID", "message": "peer_id: …"}})
    assert check.failures == []


def test_the_sdk_serves_its_declarations(live_server: SalonServer) -> None:
    response = httpx.get(f"{live_server.url}/sdk/v1/protocol.d.ts", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == DECLARATIONS.read_text()


def test_the_sdk_declarations_are_current() -> None:
    """Run scripts/gen-protocol-types after changing a message type."""
    assert DECLARATIONS.read_text() == typescript.render(), \
        "src/salon/web/sdk/protocol.d.ts is stale: run scripts/gen-protocol-types"


@pytest.mark.parametrize("schema, expected", [
    ({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
     "(string | null)[]"),
    ({"type": "object", "additionalProperties": {"type": "integer"}},
     "{ [key: string]: number }"),
    ({"type": "object", "properties": {}, "additionalProperties": False},
     "Record<string, never>"),
    ({"enum": ["a", "b"]}, '"a" | "b"'),
    ({}, "unknown"),
])
def test_json_schema_becomes_typescript(schema: dict, expected: str) -> None:
    assert typescript.ts(schema) == expected
