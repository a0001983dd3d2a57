"""What a log line is about: the request, app, meeting, session and peer, where known.

Held in `contextvars`, so each request (each WebSocket connection's task) has its own
and code that logs need not pass them along: the request middleware sets the request
id, the gateway the meeting, session and peer once a peer has joined.
"""

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("salon_request_id", default=None)
app_id: ContextVar[str | None] = ContextVar("salon_app_id", default=None)
meeting_id: ContextVar[str | None] = ContextVar("salon_meeting_id", default=None)
session_id: ContextVar[str | None] = ContextVar("salon_session_id", default=None)
peer_id: ContextVar[str | None] = ContextVar("salon_peer_id", default=None)

#: The fields, in the order log lines show them.
FIELDS: tuple[tuple[str, ContextVar[str | None]], ...] = (
    ("request_id", request_id), ("app_id", app_id), ("meeting_id", meeting_id),
    ("session_id", session_id), ("peer_id", peer_id))


def bind(**values: str | None) -> None:
    """Set some of the fields for the rest of the current task (`bind(meeting_id=…)`)."""
    variables = dict(FIELDS)
    for name, value in values.items():
        variables[name].set(value)


def current() -> dict[str, str]:
    """The fields that are set, by name."""
    out = {}
    for name, variable in FIELDS:
        value = variable.get()
        if value is not None:
            out[name] = value
    return out
