"""Framing of the realtime protocol (docs/protocol.md): requests, replies, events.

Client → server: `{"id": 7, "type": "stage.request", "data": {…}}` (`id` optional but
needed to match the reply). Server → client: `{"type": "reply", "id": 7, "ok": true,
"data": {…}}`, `{"type": "reply", "id": 7, "ok": false, "error": {"code", "message"}}`,
and `{"type": "event", "event": "peer.joined", "data": {…}}`.

A message nested deeper than `MAX_DEPTH` levels (`salon.core.jsonsize`) is refused here,
before any command sees it: whatever gets past this point can be sent back out.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson

from salon.core.jsonsize import MAX_DEPTH, deeper_than

PROTOCOL_VERSION = 1
#: The largest message, in bytes of UTF-8, that gets an answer; a larger one is refused
#: with BAD_MESSAGE and the connection carries on.
MAX_MESSAGE_BYTES = 64 * 1024
#: The largest WebSocket message the server reads at all (uvicorn's `ws_max_size`, set
#: by `salon serve`): past it the connection is closed with 1009 before anything is
#: buffered further or parsed. A little above MAX_MESSAGE_BYTES, so a message that is
#: just too large still gets a readable error.
MAX_FRAME_BYTES = MAX_MESSAGE_BYTES + 16 * 1024

#: Any JSON number or string, echoed back as orjson reads it: a fraction, `1e3` or an
#: integer past 64 bits as a float (so the last, like any JSON number past 2^53, may
#: come back rounded).
RequestId = int | float | str | None


class BadMessage(Exception):
    """A frame that is not a request at all; answered with an error, never fatal."""

    def __init__(self, message: str, request_id: RequestId = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    id: RequestId
    type: str
    data: dict[str, Any] = field(default_factory=dict)


def decode(raw: str | bytes) -> Request:
    if _too_large(raw):
        raise BadMessage(f"Message is larger than {MAX_MESSAGE_BYTES} bytes.")
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadMessage("Message is not valid JSON.") from None
    if _brackets(raw) > MAX_DEPTH and deeper_than(message, MAX_DEPTH):
        raise BadMessage(f"Message nests objects and arrays more than {MAX_DEPTH} levels "
                         "deep.", _id_of(message))
    if not isinstance(message, dict):
        raise BadMessage("Message must be a JSON object.")
    request_id = message.get("id")
    if request_id is not None and (isinstance(request_id, bool)
                                   or not isinstance(request_id, int | float | str)):
        raise BadMessage("'id' must be a number or a string.")
    kind = message.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadMessage("Message needs a 'type' string.", request_id)
    data = message.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadMessage("'data' must be an object.", request_id)
    return Request(request_id, kind, data)


def _too_large(raw: str | bytes) -> bool:
    """More than MAX_MESSAGE_BYTES of UTF-8. A character takes 1 to 4 bytes, so only a
    text frame longer than a quarter of the limit needs encoding to tell."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return True
    return (isinstance(raw, str) and len(raw) > MAX_MESSAGE_BYTES // 4
            and len(raw.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES)


def _brackets(raw: str | bytes) -> int:
    """Opening brackets in the frame: an upper bound on its depth, counted in C."""
    if isinstance(raw, str):
        return raw.count("{") + raw.count("[")
    return raw.count(b"{") + raw.count(b"[")


def _id_of(message: Any) -> RequestId:
    request_id = message.get("id") if isinstance(message, dict) else None
    return request_id if isinstance(request_id, int | float | str) and not isinstance(
        request_id, bool) else None


def reply(request_id: RequestId, data: dict[str, Any]) -> str:
    return orjson.dumps({"type": "reply", "id": request_id, "ok": True, "data": data}).decode()


def error(request_id: RequestId, code: str, message: str, **details: Any) -> str:
    """An error reply; `details` are more fields of the error object (`retry_after_ms`)."""
    return orjson.dumps({"type": "reply", "id": request_id, "ok": False,
                         "error": {"code": code, "message": message, **details}}).decode()


#: RFC 6455 §5.5: a control frame carries at most 125 bytes, two of them the close code.
MAX_CLOSE_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """`text` cut to fit a close frame: at most 123 bytes of UTF-8, whole characters
    only. (A longer reason fails the close itself, and the client sees 1006.)"""
    data = text.encode("utf-8")
    if len(data) <= MAX_CLOSE_REASON_BYTES:
        return text
    return data[:MAX_CLOSE_REASON_BYTES].decode("utf-8", errors="ignore")
