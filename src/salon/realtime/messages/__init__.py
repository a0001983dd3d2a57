"""Every message of the realtime protocol as a type: the `data` of each request's reply
and of each event, by domain. `salon.realtime.messages.asyncapi` turns them, with the
requests' parameter models, into the protocol's schema (served at
`/realtime/v1/asyncapi.json`); the schema is the contract (docs/protocol.md "Schema").
"""

from typing import Any

from salon.realtime.messages import (
    captions,
    chat,
    connected,
    livestreams,
    media,
    plugins,
    polls,
    presence,
    recordings,
    social,
)

_DOMAINS = (presence, chat, polls, plugins, media, connected, recordings, captions, social,
            livestreams)


def _gather(name: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for module in _DOMAINS:
        table = getattr(module, name)
        clash = merged.keys() & table.keys()
        assert not clash, f"{name} defined twice: {clash}"
        merged.update(table)
    return merged


#: Request type → the type of its reply's `data`.
REPLIES: dict[str, Any] = _gather("REPLIES")
#: Event name → the type of its `data`.
EVENTS: dict[str, Any] = _gather("EVENTS")

#: Every code an error reply may carry (docs/protocol.md "Messages", "Connecting").
ERROR_CODES = (
    "BAD_MESSAGE", "UNKNOWN_TYPE", "INVALID", "FORBIDDEN", "NOT_FOUND", "NOT_JOINED",
    "CONFLICT", "RATE_LIMITED", "INTERNAL", "UNAUTHORIZED", "MEETING_INACTIVE",
    "PROTOCOL_VERSION", "RESUME_FAILED", "ALREADY_JOINED", "TOO_MANY_PEERS", "SESSION_ENDED",
    "SERVER_BUSY", "REDIRECT", "MEETING_MOVING", "CLUSTER_UNAVAILABLE",
)
