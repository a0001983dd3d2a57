"""REST on any node: a request that acts on a live meeting run by another node is passed
to that node, which answers it (docs/cluster.md "REST on any node").

Only requests that need the live room are passed: the active session's controls, the
waiting room, connected meetings, a meeting's livestream, a participant's change or
deletion (its peers are in the room), starting a recording and the active recording, and
chat file uploads (checked against the uploader's live peer). Everything else reads and
writes the shared database and is answered where it lands.

A passed request carries `x-salon-forwarded-by`: the passing node's id and a signature
made with the deployment's key, so a node never passes it on again (nothing loops) and a
client cannot forge the mark to keep a request from its meeting's node. If the owner
cannot be connected to, the request is answered where it landed, as on one node; if it
fails after it was sent (the owner may have acted on it), the answer is 502, never a
second try here.
"""

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import AsyncIterator

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

FORWARDED = b"x-salon-forwarded-by"
_KIT = r"^/client/v4/accounts/[^/]+/realtime/kit/[^/]+"
_UUID = r"([0-9a-fA-F-]{36})"
#: (method or None for any, pattern whose group 1 is the meeting id)
_BY_PATH = [
    (None, re.compile(_KIT + rf"/meetings/{_UUID}/(active-session|connected_meetings|"
                      r"waiting_room|livestreams|active-livestream)(/|$)")),
    ("DELETE", re.compile(_KIT + rf"/meetings/{_UUID}/participants/[^/]+$")),
    ("PATCH", re.compile(_KIT + rf"/meetings/{_UUID}/participants/[^/]+$")),
    ("GET", re.compile(_KIT + rf"/recordings/active-recording/{_UUID}$")),
]
#: Their meeting is in the JSON body (small: BodyLimit holds it to the JSON limit).
_BY_BODY = re.compile(_KIT + r"/recordings(/track)?$")
#: Their meeting is the participant token's (the body, a file, is never read here).
_UPLOADS = "/realtime/v1/files"
#: Hop-by-hop headers (RFC 9110 §7.6.1), and what the client sets anew.
_HOP = {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization",
        b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
        b"expect", b"host", b"content-length"}


def forwarded_mark(secret: str, node_id: str) -> str:
    mac = hmac.new(secret.encode(), f"salon-forwarded:{node_id}".encode(), hashlib.sha256)
    return f"{node_id}.{base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip('=')}"


def is_forwarded(headers: list[tuple[bytes, bytes]], secret: str) -> bool:
    """Whether another node of this deployment passed the request (a valid mark)."""
    for key, value in headers:
        if key == FORWARDED:
            node_id, _, _ = value.decode("latin-1").rpartition(".")
            return bool(node_id) and hmac.compare_digest(
                value.decode("latin-1"), forwarded_mark(secret, node_id))
    return False


class OwnerProxy:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state if "app" in scope else None
        cluster = getattr(state, "cluster", None)
        if (scope["type"] != "http" or cluster is None
                or is_forwarded(scope["headers"], state.signer.secret)):
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        meeting_id, body = None, None
        as_method = "GET" if method == "HEAD" else method  # HEAD is the GET (api/head.py)
        for wanted, pattern in _BY_PATH:
            match = pattern.match(path)
            if match and (wanted is None or wanted == as_method):
                meeting_id = match.group(1)
                break
        else:
            if method == "POST" and _BY_BODY.match(path):
                body = await _read(receive)
                meeting_id = _meeting_in(body)
            elif method == "POST" and path == _UPLOADS:
                meeting_id = _uploader_meeting(scope)
        address = None
        if meeting_id is not None:
            try:
                address = await cluster.owner_address(meeting_id)
            except Exception as error:  # Redis away: answer here, as one node would
                log.warning("cluster: finding meeting %s's node failed: %s", meeting_id, error)
        if body is not None:
            receive = _replay(body)
        if address is not None and await self._forward(
                scope, receive, address, forwarded_mark(state.signer.secret, cluster.node_id),
                cluster.http, send):
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _forward(scope: Scope, receive: Receive, address: str, mark: str,
                       client: httpx.AsyncClient, send: Send) -> bool:
        """Pass the request to `address`; False if that node could not be connected to
        (nothing was sent: the request may be answered here)."""
        headers = [(k, v) for k, v in scope["headers"] if k not in _HOP and k != FORWARDED]
        headers.append((FORWARDED, mark.encode()))
        url = address.rstrip("/") + scope["path"]
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        try:
            response = await client.request(scope["method"], url, headers=headers,
                                            content=_stream(receive))
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            log.warning("cluster: node %s could not be reached for %s %s: %s", address,
                        scope["method"], scope["path"], error)
            return False
        except httpx.HTTPError as error:
            log.warning("cluster: passing %s %s to %s failed: %s", scope["method"],
                        scope["path"], address, error)
            await error(502, "The meeting's node did not answer; it may have acted on "
                             "this request. Check before you repeat it.")(scope, receive, send)
            return True
        out = [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP]
        await _answer(send, response.status_code, response.content, out)
        return True


async def _answer(send: Send, status: int, body: bytes,
                  headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _stream(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        yield message.get("body", b"")
        if not message.get("more_body"):
            return


async def _read(receive: Receive) -> bytes:
    return b"".join([chunk async for chunk in _stream(receive)])


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _meeting_in(body: bytes) -> str | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value = data.get("meeting_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _uploader_meeting(scope: Scope) -> str | None:
    """The meeting of the participant token an upload is made with (its signature checked
    here; the node that answers checks the rest)."""
    signer = getattr(scope["app"].state, "signer", None)
    for key, value in scope["headers"]:
        if key == b"authorization" and signer is not None:
            token = value.decode("latin-1").removeprefix("Bearer ").strip()
            try:
                return signer.claims(token).get("mid")
            except Exception:
                return None
    return None
