"""REST on any node: a request that acts on a live meeting run by another node is passed
to that node, which answers it (docs/cluster.md "REST on any node").

Only requests that need the live room are passed: the active session's controls, the
waiting room, connected meetings, the meeting's livestream, a participant's change or
deletion (its peers are in the room), starting a recording and the active recording, and
chat file uploads (checked against the uploader's live peer). Everything else reads and
writes the shared database and is answered where it lands. A passed request carries
`x-salon-forwarded-by`, and a node never passes on a request that has it, so nothing
loops. If the owner cannot be reached the request is answered here, as on one node.
"""

import logging
import re

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
#: Their meeting is in the JSON body.
_BY_BODY = re.compile(_KIT + r"/recordings(/track)?$")
_UPLOADS = "/realtime/v1/files"
#: Response headers not passed back (the body is sent whole, its length set anew).
_HOP = {b"transfer-encoding", b"connection", b"content-length", b"keep-alive"}


class OwnerProxy:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cluster = getattr(scope["app"].state, "cluster", None) if "app" in scope else None
        if (scope["type"] != "http" or cluster is None
                or any(key == FORWARDED for key, _ in scope["headers"])):
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        meeting_id, body = None, None
        for wanted, pattern in _BY_PATH:
            match = pattern.match(path)
            if match and (wanted is None or wanted == method):
                meeting_id = match.group(1)
                break
        else:
            if method == "POST" and (_BY_BODY.match(path) or path == _UPLOADS):
                body = await _read(receive)
                meeting_id = (_meeting_in(body) if path != _UPLOADS
                              else _uploader_meeting(scope))
        address = None
        if meeting_id is not None:
            try:
                address = await cluster.owner_address(meeting_id)
            except Exception as error:  # Redis away: answer here, as one node would
                log.warning("cluster: finding meeting %s's node failed: %s", meeting_id, error)
        if address is not None:
            if body is None:
                body = await _read(receive)
            if await self._forward(scope, body, address, cluster.node_id, send):
                return
        if body is not None:
            receive = _replay(body)
        await self.app(scope, receive, send)

    async def _forward(self, scope: Scope, body: bytes, address: str, node_id: str,
                       send: Send) -> bool:
        """Pass the request to `address`; False if that node could not be reached."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=30.0)
        headers = [(k, v) for k, v in scope["headers"]
                   if k not in (b"host", b"content-length")]
        headers.append((FORWARDED, node_id.encode()))
        url = address.rstrip("/") + scope["path"]
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        try:
            response = await self._client.request(scope["method"], url, headers=headers,
                                                  content=body)
        except httpx.HTTPError as error:
            log.warning("cluster: passing %s %s to %s failed: %s", scope["method"],
                        scope["path"], address, error)
            return False
        out = [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP]
        content = response.content
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": out})
        await send({"type": "http.response.body", "body": content})
        return True


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


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
    """The meeting of the participant token an upload is made with (unchecked here: the
    node that answers checks it)."""
    signer = getattr(scope["app"].state, "signer", None)
    for key, value in scope["headers"]:
        if key == b"authorization" and signer is not None:
            token = value.decode("latin-1").removeprefix("Bearer ").strip()
            try:
                return signer.claims(token).get("mid")
            except Exception:
                return None
    return None
