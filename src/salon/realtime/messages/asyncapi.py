"""The realtime protocol as an AsyncAPI 3.0 document, generated from the server's models.

Requests come from the parameter models the gateway validates with (`COMMANDS`, `Join`),
replies and events from the types in this package, so the document cannot say anything
the server does not check or build. Schemas are generated in one pass, so every shared
view (PeerView, SelfView, …) is one entry of `components.schemas`. The test suite
validates every message it sends and receives against this document, and the browser
SDK's `protocol.d.ts` is generated from it.
"""

from functools import cache
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from salon.core.schema import standard_bounds
from salon.realtime.commands import COMMANDS
from salon.realtime.commands.base import NoParams
from salon.realtime.join import Join
from salon.realtime.messages import ERROR_CODES, EVENTS, REPLIES
from salon.realtime.protocol import PROTOCOL_VERSION

SCHEMAS = "#/components/schemas/"
CHANNEL = "realtime"
ERROR = "error"


class _Schemas(GenerateJsonSchema):
    """Pydantic's generator, without a title on every field (names say enough)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def request_params() -> dict[str, Any]:
    """Every request type and the model its `data` is validated with."""
    return {"join": Join, "ping": NoParams, "leave": NoParams,
            **{kind: command.params for kind, command in COMMANDS.items()}}


def request_message(kind: str) -> str:
    return f"request.{kind}"


def reply_message(kind: str) -> str:
    return f"reply.{kind}"


def event_message(name: str) -> str:
    return f"event.{name}"


def _envelope(properties: dict[str, Any], required: list[str],
              closed: bool = True) -> dict[str, Any]:
    """A message; a request's (`closed=False`) may carry other fields, which the server
    ignores (docs/protocol.md)."""
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": not closed}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def _framing() -> dict[str, Any]:
    """The schemas of the envelope itself: request ids and the error object."""
    return {
        "RequestId": {"description": "Any number or string; the reply carries it back.",
                      "anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]},
        "RequestError": {
            "type": "object", "additionalProperties": False,
            "required": ["code", "message"],
            "properties": {
                "code": {"enum": list(ERROR_CODES)},
                "message": {"type": "string"},
                "retry_after_ms": {"type": "integer", "minimum": 0, "description":
                                   "RATE_LIMITED: when the request would be allowed."},
                "retry_after": {"type": "integer", "minimum": 1, "description":
                                "SERVER_BUSY or MEETING_MOVING join: seconds to wait "
                                "before joining again."},
                "url": {"type": "string", "description":
                        "REDIRECT join: the WebSocket URL of the node that runs the "
                        "meeting; send the same join there."},
                "address": {"type": "string", "description":
                            "REDIRECT join: that node's base URL (http or https)."},
            },
        },
    }


def _needs_data(schema: dict[str, Any], definitions: dict[str, Any]) -> bool:
    target = definitions.get(schema.get("$ref", "").removeprefix(SCHEMAS), schema)
    return bool(target.get("required"))


def _messages(data: dict[tuple[tuple[str, str], str], Any],
              definitions: dict[str, Any]) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for kind in request_params():
        params = data[(("request", kind), "validation")]
        required = ["type", "data"] if _needs_data(params, definitions) else ["type"]
        if "data" not in required:  # absent or null: read as {}
            params = {"anyOf": [params, {"type": "null"}]}
        messages[request_message(kind)] = {
            "name": kind, "title": f"{kind} request",
            "payload": _envelope({"id": _ref("RequestId"), "type": {"const": kind},
                                  "data": params}, required, closed=False)}
        messages[reply_message(kind)] = {
            "name": f"{kind} reply", "title": f"{kind} reply",
            "payload": _envelope({"type": {"const": "reply"}, "id": _ref("RequestId"),
                                  "ok": {"const": True},
                                  "data": data[(("reply", kind), "serialization")]},
                                 ["type", "id", "ok", "data"])}
    messages[ERROR] = {
        "name": "error", "title": "error reply",
        "summary": "Any request refused, or a message that was not a request at all.",
        "payload": _envelope({"type": {"const": "reply"}, "id": _ref("RequestId"),
                              "ok": {"const": False}, "error": _ref("RequestError")},
                             ["type", "id", "ok", "error"])}
    for name in EVENTS:
        messages[event_message(name)] = {
            "name": name, "title": f"{name} event",
            "payload": _envelope({"type": {"const": "event"}, "event": {"const": name},
                                  "data": data[(("event", name), "serialization")]},
                                 ["type", "event", "data"])}
    return messages


def _operations() -> dict[str, Any]:
    """From the server's side: it receives each request and replies; it sends events."""
    channel = {"$ref": f"#/channels/{CHANNEL}"}

    def message(name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}

    operations: dict[str, Any] = {}
    for kind in request_params():
        operations[request_message(kind)] = {
            "action": "receive", "channel": channel,
            "messages": [message(request_message(kind))],
            "reply": {"channel": channel,
                      "messages": [message(reply_message(kind)), message(ERROR)]}}
    for name in EVENTS:
        operations[event_message(name)] = {"action": "send", "channel": channel,
                                           "messages": [message(event_message(name))]}
    return operations


@cache
def document() -> dict[str, Any]:
    """The whole AsyncAPI document (built once per process: the models do not change)."""
    inputs = [(("request", kind), "validation", TypeAdapter(model).core_schema)
              for kind, model in request_params().items()]
    inputs += [(("reply", kind), "serialization", TypeAdapter(REPLIES[kind]).core_schema)
               for kind in request_params()]
    inputs += [(("event", name), "serialization", TypeAdapter(model).core_schema)
               for name, model in EVENTS.items()]
    data, definitions = _Schemas(ref_template=SCHEMAS + "{model}").generate_definitions(
        inputs)  # type: ignore[arg-type]
    definitions = {**definitions, **_framing()}
    standard_bounds(definitions)
    messages = _messages(data, definitions)  # type: ignore[arg-type]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "salon realtime protocol", "version": str(PROTOCOL_VERSION),
            "description": "One WebSocket per peer; JSON text frames. Rules and meaning: "
                           "docs/protocol.md. This document is the contract of every "
                           "message's shape.",
        },
        "defaultContentType": "application/json",
        "channels": {CHANNEL: {
            "address": "/realtime/v1", "title": "The realtime gateway",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}
                         for name in messages}}},
        "operations": _operations(),
        "components": {"schemas": dict(sorted(definitions.items())), "messages": messages},
    }
