"""Chat requests and file transfer (docs/chat.md)."""

from ssl import SSLContext
from typing import Any

import httpx

from salon.client.admin import ApiError, envelope
from salon.client.requester import Requester


class ChatActions(Requester):
    #: The server's HTTP base URL, for file upload and download (set by the connection).
    http_url: str
    token: str
    #: The context the peer joined with (`join(ssl=…)`), verifying HTTPS as the WSS.
    ssl: SSLContext | None

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

    def _http(self) -> httpx.AsyncClient:
        """An HTTP client that trusts what the realtime connection trusts: the peer's
        `ssl` context, or (None) the system's authorities."""
        return httpx.AsyncClient(timeout=30, verify=self.ssl if self.ssl is not None else True)

    async def upload_file(self, data: bytes, name: str, content_type: str) -> dict[str, Any]:
        """Upload over HTTP with this peer's token; returns `{id, name, size, content_type,
        link, created_at}`. Raises ApiError (413 too large, 415 type not allowed, …)."""
        async with self._http() as http:
            response = await http.post(
                f"{self.http_url}/realtime/v1/files", params={"name": name}, content=data,
                headers={"Authorization": f"Bearer {self.token}",
                         "Content-Type": content_type})
        return envelope(response)["data"]

    async def download_file(self, link: str) -> tuple[bytes, str]:
        """A chat file's bytes and content type, by its `link` (with this peer's token)."""
        async with self._http() as http:
            response = await http.get(link, headers={"Authorization": f"Bearer {self.token}"})
        if response.status_code != 200:
            envelope(response)  # raises ApiError, with the server's reason
            raise ApiError(response.status_code, "the file could not be downloaded")
        return response.content, response.headers.get("content-type", "")
