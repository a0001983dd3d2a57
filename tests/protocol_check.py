"""Every realtime message a test sees, checked against the protocol's schema.

`RealtimeClient.inspector` shows this checker each request a client sends and each
message it reads. Every event and reply must match its schema: replies the reply schema
of the request they answer (found by id), refusals the error schema. Tests send
malformed requests on purpose, so a request the schema refuses is no failure by itself;
the server must then refuse it too, before any room sees it. Mismatches are kept, and the
test fails at its end with each of them, naming the message and the path in it.
"""

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from salon.client.realtime import RealtimeClient
from salon.realtime.messages import asyncapi

#: A reply to something sent with `send_raw`: its request type is not known.
ANY_REPLY = "reply.*"


class UnknownMessage(LookupError):
    """A message name the protocol's schema does not have."""


@cache
def validator(message: str) -> Draft202012Validator:
    """The validator of one message of the document (`request.ping`, `event.peer.joined`)."""
    document = asyncapi.document()
    if message == ANY_REPLY:
        schema: dict[str, Any] = {"type": "object", "required": ["type", "id", "ok", "data"],
                                  "properties": {"ok": {"const": True},
                                                 "data": {"type": "object"}}}
    elif message in document["components"]["messages"]:
        schema = {"$ref": f"#/components/messages/{message}/payload"}
    else:
        raise UnknownMessage(f"{message} is not in the protocol's schema")
    return Draft202012Validator({**schema, "components": document["components"]})


def problem(message_name: str, message: dict[str, Any]) -> str | None:
    """What is wrong with `message` as `message_name`, readably; None if it matches."""
    try:
        check = validator(message_name)
    except UnknownMessage as unknown:
        return str(unknown)
    error = best_match(check.iter_errors(message))
    if error is None:
        return None
    return f"{message_name}: at {error.json_path}: {error.message}"


#: How the server refuses a request that its schema refuses too: before it reaches a room.
REFUSALS = {"BAD_MESSAGE", "UNKNOWN_TYPE", "INVALID"}


class ProtocolCheck:
    def __init__(self) -> None:
        #: (client, request id) → the request's type and, if the schema refuses the
        #: request, why; kept until the reply comes.
        self.asked: dict[tuple[int, Any], tuple[str, str | None]] = {}
        self.failures: list[str] = []

    def sent(self, client: RealtimeClient, message: dict[str, Any]) -> None:
        """Tests send malformed requests on purpose; the server must then refuse them."""
        kind = str(message.get("type"))
        self.asked[(id(client), message.get("id"))] = (
            kind, problem(asyncapi.request_message(kind), message))

    def received(self, client: RealtimeClient, message: dict[str, Any]) -> None:
        if message.get("type") == "reply":
            kind, refused = self.asked.pop((id(client), message.get("id")), (None, None))
            if refused is not None:
                self._refused(refused, message)
            if message.get("ok") is False:
                name = asyncapi.ERROR
            else:
                name = ANY_REPLY if kind is None else asyncapi.reply_message(kind)
        else:
            name = asyncapi.event_message(str(message.get("event")))
        self._check(name, message)

    def _refused(self, why: str, reply: dict[str, Any]) -> None:
        """The schema refuses a request: the server must, too (else the schema is
        stricter than the server, and wrong)."""
        code = (reply.get("error") or {}).get("code")
        if reply.get("ok") is not False or code not in REFUSALS:
            self._fail(f"an answer other than {'/'.join(sorted(REFUSALS))} to a request "
                       f"the schema refuses ({why})", reply)

    def _check(self, name: str, message: dict[str, Any]) -> None:
        found = problem(name, message)
        if found is not None:
            self._fail(found, message)

    def _fail(self, what: str, message: dict[str, Any]) -> None:
        self.failures.append(f"the server sent {what}\n    {message}"[:2000])
