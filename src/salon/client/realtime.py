"""RealtimeClient: one peer on the realtime protocol (docs/protocol.md), on `websockets`.

Replies are matched to requests by id; events queue up in arrival order, and
`wait_for` takes the first one that matches (leaving the others queued), so a test or a
bot can wait for exactly what it expects without losing anything else.
"""

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import websockets

from salon.client.admin import ApiError

PROTOCOL_VERSION = 1


class RealtimeError(Exception):
    """An error reply: `code` from the protocol (FORBIDDEN, INVALID, …) and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def ws_url(http_url: str) -> str:
    """The gateway URL of a salon server given its HTTP base URL."""
    return http_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") \
        + "/realtime/v1"


def http_url(gateway_url: str) -> str:
    """The HTTP base URL of a salon server given its gateway URL (the reverse of ws_url)."""
    base = gateway_url.replace("ws://", "http://").replace("wss://", "https://").rstrip("/")
    return base.removesuffix("/realtime/v1")


class RealtimeClient:
    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.arrived = asyncio.Condition()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.joined: dict[str, Any] = {}
        self.timeout = 10.0
        #: The HTTP base URL and the token this peer joined with (chat file uploads).
        self.http_url = ""
        self.token = ""
        self.reader = asyncio.create_task(self._read())

    # --- connecting -------------------------------------------------------------------------

    @classmethod
    async def connect(cls, url: str) -> "RealtimeClient":
        return cls(await websockets.connect(url, max_size=2**22))

    @classmethod
    async def join(cls, url: str, token: str, *, name: str | None = None,
                   media: dict[str, bool] | None = None,
                   resume: dict[str, str] | None = None) -> "RealtimeClient":
        """Connect and join; raises RealtimeError if the server refuses."""
        client = await cls.connect(url)
        client.http_url = http_url(url)
        client.token = token
        data: dict[str, Any] = {"token": token, "protocol": PROTOCOL_VERSION}
        if name is not None:
            data["name"] = name
        if media is not None:
            data["media"] = media
        if resume is not None:
            data["resume"] = resume
        try:
            client.joined = await client.request("join", **data)
        except BaseException:
            await client.close()
            raise
        return client

    @property
    def peer_id(self) -> str:
        return self.joined["peer_id"]

    @property
    def status(self) -> str:
        return self.joined["status"]

    @property
    def resume_info(self) -> dict[str, str]:
        return {"peer_id": self.joined["peer_id"], "resume_token": self.joined["resume_token"]}

    async def close(self) -> None:
        """Drop the connection without leaving (the server keeps the peer to resume)."""
        await self.connection.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader

    async def leave(self) -> None:
        with contextlib.suppress(RealtimeError, ConnectionError,
                                 websockets.ConnectionClosed):
            await self.request("leave")
        await self.close()

    # --- requests and events ----------------------------------------------------------------

    async def send_raw(self, text: str | bytes) -> None:
        await self.connection.send(text)

    async def request(self, kind: str, /, **data: Any) -> dict[str, Any]:
        """Send one request and wait for its reply (`self.timeout` seconds at most)."""
        request_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        await self.connection.send(orjson.dumps({"id": request_id, "type": kind, "data": data}))
        try:
            return await asyncio.wait_for(future, self.timeout)
        finally:
            self.pending.pop(request_id, None)

    async def wait_for(self, event: str, where: Callable[[dict[str, Any]], bool] | None = None,
                       timeout: float = 5) -> dict[str, Any]:
        """Take the first queued-or-coming event named `event` for which `where` holds."""
        async def found() -> dict[str, Any]:
            async with self.arrived:
                while True:
                    for index, (name, data) in enumerate(self.events):
                        if name == event and (where is None or where(data)):
                            del self.events[index]
                            return data
                    if self.closed.is_set():
                        raise ConnectionError(f"closed ({self.close_code}) before {event}")
                    await self.arrived.wait()
        return await asyncio.wait_for(found(), timeout)

    def drain(self, event: str | None = None) -> list[dict[str, Any]]:
        """Take every queued event (of one name, if given) without waiting."""
        taken = [data for name, data in self.events if event is None or name == event]
        self.events = [(n, d) for n, d in self.events if not (event is None or n == event)]
        return taken

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = orjson.loads(raw)
                if message.get("type") == "reply":
                    future = self.pending.get(message.get("id"))
                    if future is not None and not future.done():
                        if message["ok"]:
                            future.set_result(message["data"])
                        else:
                            error = message["error"]
                            future.set_exception(RealtimeError(error["code"], error["message"]))
                    elif not message["ok"]:
                        await self._queue("error", message["error"])
                elif message.get("type") == "event":
                    await self._queue(message["event"], message["data"])
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.connection.close_code
            self.closed.set()
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"closed ({self.close_code})"))
            async with self.arrived:
                self.arrived.notify_all()

    async def _queue(self, name: str, data: dict[str, Any]) -> None:
        async with self.arrived:
            self.events.append((name, data))
            self.arrived.notify_all()

    # --- the protocol's requests, by name -------------------------------------------------

    async def state(self) -> dict[str, Any]:
        return await self.request("state")

    async def ping(self) -> dict[str, Any]:
        return await self.request("ping")

    async def rename(self, name: str) -> dict[str, Any]:
        return await self.request("self.rename", name=name)

    async def set_media(self, **kinds: bool) -> dict[str, Any]:
        return await self.request("self.media", **kinds)

    async def pin(self, peer_id: str | None) -> dict[str, Any]:
        return await self.request("peer.pin", peer_id=peer_id)

    async def waiting(self) -> list[dict[str, Any]]:
        return (await self.request("waitlist.list"))["waiting"]

    async def admit(self, peer_ids: list[str] | None = None) -> dict[str, Any]:
        if peer_ids is None:
            return await self.request("waitlist.admit", all=True)
        return await self.request("waitlist.admit", peer_ids=peer_ids)

    async def reject(self, peer_ids: list[str] | None = None) -> dict[str, Any]:
        if peer_ids is None:
            return await self.request("waitlist.reject", all=True)
        return await self.request("waitlist.reject", peer_ids=peer_ids)

    async def stage(self, action: str, peer_ids: list[str] | None = None) -> dict[str, Any]:
        """`action`: request, cancel_request, list_requests, grant, deny, join, leave, kick."""
        if peer_ids is None:
            return await self.request(f"stage.{action}")
        return await self.request(f"stage.{action}", peer_ids=peer_ids)

    async def kick(self, peer_ids: list[str]) -> dict[str, Any]:
        return await self.request("host.kick", peer_ids=peer_ids)

    async def kick_all(self) -> dict[str, Any]:
        return await self.request("host.kick_all")

    async def disable_media(self, peer_ids: list[str], kinds: list[str]) -> dict[str, Any]:
        return await self.request("host.disable_media", peer_ids=peer_ids, kinds=kinds)

    async def allow_media(self, peer_ids: list[str], kinds: list[str]) -> dict[str, Any]:
        return await self.request("host.allow_media", peer_ids=peer_ids, kinds=kinds)

    async def mute_all(self, allow_unmute: bool = True) -> dict[str, Any]:
        return await self.request("host.mute_all", allow_unmute=allow_unmute)

    async def disable_all_video(self) -> dict[str, Any]:
        return await self.request("host.disable_all_video")

    async def update_permissions(self, peer_ids: list[str], patch: dict[str, Any]) -> dict[str, Any]:
        return await self.request("host.update_permissions", peer_ids=peer_ids, patch=patch)

    async def broadcast(self, type: str, payload: Any = None, *,
                        participant_ids: list[str] | None = None,
                        preset_names: list[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"type": type, "payload": payload}
        if participant_ids is not None:
            data["participant_ids"] = participant_ids
        if preset_names is not None:
            data["preset_names"] = preset_names
        return await self.request("broadcast", **data)

    # chat (docs/chat.md); sending and changing answer with the stored message
    async def send_message(self, type: str = "text", *, text: str | None = None,
                           payload: dict[str, Any] | None = None, file_id: str | None = None,
                           to: list[str] | None = None,
                           reply_to: str | None = None) -> dict[str, Any]:
        """Any message: `text`, `custom` (a `payload` object), or `image`/`file` (the id of
        an uploaded file). `to` (participant ids) makes it private."""
        data: dict[str, Any] = {"type": type}
        for key, value in (("text", text), ("payload", payload), ("file_id", file_id),
                           ("to", to), ("reply_to", reply_to)):
            if value is not None:
                data[key] = value
        kind = "chat.send_file" if type in ("image", "file") else "chat.send"
        return (await self.request(kind, **data))["message"]

    async def send_text(self, text: str, *, to: list[str] | None = None,
                        reply_to: str | None = None) -> dict[str, Any]:
        return await self.send_message("text", text=text, to=to, reply_to=reply_to)

    async def send_custom(self, payload: dict[str, Any], *, to: list[str] | None = None,
                          reply_to: str | None = None) -> dict[str, Any]:
        return await self.send_message("custom", payload=payload, to=to, reply_to=reply_to)

    async def send_file(self, file_id: str, *, image: bool = False, to: list[str] | None = None,
                        reply_to: str | None = None) -> dict[str, Any]:
        return await self.send_message("image" if image else "file", file_id=file_id, to=to,
                                       reply_to=reply_to)

    async def edit_message(self, message_id: str, *, text: str | None = None,
                           payload: dict[str, Any] | None = None,
                           file_id: str | None = None) -> dict[str, Any]:
        data = {k: v for k, v in (("text", text), ("payload", payload), ("file_id", file_id))
                if v is not None}
        return (await self.request("chat.edit", message_id=message_id, **data))["message"]

    async def delete_message(self, message_id: str) -> dict[str, Any]:
        return await self.request("chat.delete", message_id=message_id)

    async def pin_message(self, message_id: str) -> dict[str, Any]:
        return (await self.request("chat.pin", message_id=message_id))["message"]

    async def unpin_message(self, message_id: str) -> dict[str, Any]:
        return (await self.request("chat.unpin", message_id=message_id))["message"]

    async def chat_history(self, *, before: Any = None, after: Any = None,
                           limit: int | None = None, filter: str | None = None,
                           participant_id: str | None = None) -> dict[str, Any]:
        """`{"messages": [oldest first], "has_more"}`; `before`/`after` are datetimes or
        ISO-8601 strings; `participant_id` picks the private conversation with them."""
        data: dict[str, Any] = {}
        for key, value in (("before", before), ("after", after), ("limit", limit),
                           ("filter", filter), ("participant_id", participant_id)):
            if value is not None:
                data[key] = value.isoformat() if hasattr(value, "isoformat") else value
        return await self.request("chat.history", **data)

    async def pinned_messages(self) -> list[dict[str, Any]]:
        return (await self.request("chat.pinned"))["messages"]

    async def upload_file(self, data: bytes, name: str, content_type: str) -> dict[str, Any]:
        """Upload over HTTP with this peer's token; returns `{id, name, size, content_type,
        link, created_at}`. Raises ApiError (413 too large, 415 type not allowed, …)."""
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                f"{self.http_url}/realtime/v1/files", params={"name": name}, content=data,
                headers={"Authorization": f"Bearer {self.token}",
                         "Content-Type": content_type})
        body = response.json()
        if not body.get("success"):
            raise ApiError(response.status_code, body.get("error", {}).get("message", ""))
        return body["data"]

    async def download_file(self, link: str) -> tuple[bytes, str]:
        """A chat file's bytes and content type, by its `link` (with this peer's token)."""
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.get(link, headers={"Authorization": f"Bearer {self.token}"})
        if response.status_code != 200:
            raise ApiError(response.status_code,
                           response.json().get("error", {}).get("message", ""))
        return response.content, response.headers.get("content-type", "")

    # plugins (docs/plugins-and-stores.md)
    async def plugins(self) -> dict[str, Any]:
        """`{"plugins": [registry entries with active, activated_by, access], "active"}`."""
        return await self.request("plugin.list")

    async def activate_plugin(self, plugin_id: str) -> dict[str, Any]:
        return (await self.request("plugin.activate", plugin_id=plugin_id))["plugin"]

    async def deactivate_plugin(self, plugin_id: str) -> dict[str, Any]:
        return await self.request("plugin.deactivate", plugin_id=plugin_id)

    async def plugin_message(self, plugin_id: str, payload: Any = None, *,
                             to: list[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"plugin_id": plugin_id, "payload": payload}
        if to is not None:
            data["to"] = to
        return await self.request("plugin.message", **data)

    async def set_plugin_state(self, plugin_id: str, key: str, value: Any) -> dict[str, Any]:
        """Set one key of the plugin's shared state; `None` removes it."""
        return await self.request("plugin.state.set", plugin_id=plugin_id, key=key, value=value)

    async def plugin_state(self, plugin_id: str, key: str | None = None) -> Any:
        """The whole state (a dict), or one key's value (None when unset)."""
        if key is None:
            return (await self.request("plugin.state.get", plugin_id=plugin_id))["state"]
        return (await self.request("plugin.state.get", plugin_id=plugin_id, key=key))["value"]

    # collaborative stores (docs/plugins-and-stores.md); writes answer `{store, changes}`
    async def store_set(self, store: str, key: str, value: Any) -> dict[str, Any]:
        return await self.request("store.set", store=store, key=key, value=value)

    async def store_update(self, store: str, key: str, value: Any) -> dict[str, Any]:
        """Merge an object into an object, append to a list, or set a missing key."""
        return await self.request("store.update", store=store, key=key, value=value)

    async def store_delete(self, store: str, key: str) -> dict[str, Any]:
        return await self.request("store.delete", store=store, key=key)

    async def store_bulk_set(self, store: str, items: dict[str, Any]) -> dict[str, Any]:
        return await self.request("store.bulk_set", store=store, items=items)

    async def store_bulk_delete(self, store: str, keys: list[str]) -> dict[str, Any]:
        return await self.request("store.bulk_delete", store=store, keys=keys)

    async def store_get(self, store: str, key: str) -> Any:
        """The key's value, or None when it is not set."""
        return (await self.request("store.get", store=store, key=key))["value"]

    async def store_get_all(self, store: str) -> dict[str, Any]:
        return (await self.request("store.get_all", store=store))["items"]

    async def store_subscribe(self, store: str, keys: list[str] | None = None) -> dict[str, Any]:
        """Follow keys (every key by default); answers `{store, keys, items}` (current values)."""
        if keys is None:
            return await self.request("store.subscribe", store=store)
        return await self.request("store.subscribe", store=store, keys=keys)

    async def store_unsubscribe(self, store: str,
                                keys: list[str] | None = None) -> dict[str, Any]:
        """Stop following some keys (`"*"` is the every-key subscription), or all of them."""
        if keys is None:
            return await self.request("store.unsubscribe", store=store)
        return await self.request("store.unsubscribe", store=store, keys=keys)

    # polls (docs/polls-and-qna.md)
    async def create_poll(self, question: str, options: list[str], *, anonymous: bool = False,
                          hide_votes: bool = False) -> dict[str, Any]:
        """`{"poll": …}` (or `{"poll_id"}` for a creator who may not view polls)."""
        return await self.request("poll.create", question=question, options=options,
                                  anonymous=anonymous, hide_votes=hide_votes)

    async def vote(self, poll_id: str, index: int) -> dict[str, Any]:
        return await self.request("poll.vote", poll_id=poll_id, index=index)

    async def polls(self) -> list[dict[str, Any]]:
        return (await self.request("poll.list"))["polls"]

    # Q&A, a salon addition (docs/polls-and-qna.md)
    async def ask(self, text: str) -> dict[str, Any]:
        return (await self.request("qna.ask", text=text))["question"]

    async def upvote(self, question_id: str) -> dict[str, Any]:
        return (await self.request("qna.upvote", question_id=question_id))["question"]

    async def answer(self, question_id: str, answer: str | None = None) -> dict[str, Any]:
        return (await self.request("qna.answer", question_id=question_id,
                                   answer=answer))["question"]

    async def dismiss(self, question_id: str) -> dict[str, Any]:
        return (await self.request("qna.dismiss", question_id=question_id))["question"]

    async def questions(self) -> list[dict[str, Any]]:
        return (await self.request("qna.list"))["questions"]
