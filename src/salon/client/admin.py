"""AdminClient: the REST control plane with an API token (async, on httpx)."""

from ssl import SSLContext
from typing import Any

import httpx


class ApiError(Exception):
    """A RealtimeKit error envelope: `status` is the HTTP status, `message` the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def envelope(response: httpx.Response) -> dict[str, Any]:
    """The response's RealtimeKit envelope, or `ApiError` when it has failed: also when
    the body is no envelope at all (a proxy's HTML 502 page, say), with its first words."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = " ".join(response.text.split())[:200]
        raise ApiError(response.status_code, f"not a JSON answer from the server: {text}"
                       if text else "an empty answer from the server")
    if not body.get("success"):
        error = body.get("error")
        raise ApiError(response.status_code,
                       str(error.get("message", "")) if isinstance(error, dict) else "")
    return body


class AdminClient:
    def __init__(self, base_url: str, account_id: str, app_id: str, api_token: str,
                 *, timeout: float = 10, ssl: SSLContext | None = None) -> None:
        """`ssl`: for an `https://` URL, the context to verify the server with (one
        trusting a self-signed certificate, say), as `RealtimeClient.join` takes it;
        None: the system's trusted authorities."""
        self.app_url = (f"{base_url.rstrip('/')}/client/v4/accounts/{account_id}"
                        f"/realtime/kit/{app_id}")
        self.http = httpx.AsyncClient(
            base_url=self.app_url, timeout=timeout,
            headers={"Authorization": f"Bearer {api_token}"},
            verify=ssl if ssl is not None else True,
        )

    async def __aenter__(self) -> "AdminClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None) -> Any:
        """One request; returns `data` (and for lists, the whole envelope via `page`)."""
        response = await self.http.request(method, path, json=json, params=params)
        return envelope(response)["data"]

    async def page(self, path: str, **params: Any) -> dict[str, Any]:
        return envelope(await self.http.get(path, params=params))

    # meetings and participants
    async def create_meeting(self, **fields: Any) -> dict[str, Any]:
        return await self.call("POST", "/meetings", json=fields)

    async def update_meeting(self, meeting_id: str, **fields: Any) -> dict[str, Any]:
        return await self.call("PATCH", f"/meetings/{meeting_id}", json=fields)

    async def add_participant(self, meeting_id: str, custom_participant_id: str,
                              preset_name: str, *, name: str | None = None) -> dict[str, Any]:
        return await self.call("POST", f"/meetings/{meeting_id}/participants", json={
            "custom_participant_id": custom_participant_id, "preset_name": preset_name,
            "name": name})

    async def refresh_token(self, meeting_id: str, participant_id: str) -> str:
        data = await self.call("POST", f"/meetings/{meeting_id}/participants/"
                                       f"{participant_id}/token")
        return data["token"]

    async def delete_participant(self, meeting_id: str, participant_id: str) -> dict[str, Any]:
        return await self.call("DELETE", f"/meetings/{meeting_id}/participants/{participant_id}")

    async def create_preset(self, name: str, **tree: Any) -> dict[str, Any]:
        return await self.call("POST", "/presets", json={"name": name, **tree})

    # live sessions
    async def active_session(self, meeting_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/meetings/{meeting_id}/active-session")

    async def kick(self, meeting_id: str, *, participant_ids: list[str] | None = None,
                   custom_participant_ids: list[str] | None = None) -> dict[str, Any]:
        return await self.call("POST", f"/meetings/{meeting_id}/active-session/kick", json={
            "participant_ids": participant_ids or [],
            "custom_participant_ids": custom_participant_ids or []})

    async def kick_all(self, meeting_id: str) -> dict[str, Any]:
        return await self.call("POST", f"/meetings/{meeting_id}/active-session/kick-all")

    async def mute(self, meeting_id: str, *, participant_ids: list[str] | None = None,
                   custom_participant_ids: list[str] | None = None) -> dict[str, Any]:
        return await self.call("POST", f"/meetings/{meeting_id}/active-session/mute", json={
            "participant_ids": participant_ids or [],
            "custom_participant_ids": custom_participant_ids or []})

    async def mute_all(self, meeting_id: str, *, allow_unmute: bool) -> dict[str, Any]:
        return await self.call("POST", f"/meetings/{meeting_id}/active-session/mute-all",
                               json={"allow_unmute": allow_unmute})

    async def create_poll(self, meeting_id: str, question: str, options: list[str], *,
                          anonymous: bool = False, hide_votes: bool = False) -> dict[str, Any]:
        """AS6: `{"action", "poll"}`; the poll goes to everyone in the session who may view it."""
        return await self.call("POST", f"/meetings/{meeting_id}/active-session/poll", json={
            "question": question, "options": options, "anonymous": anonymous,
            "hide_votes": hide_votes})

    # sessions
    async def sessions(self, **params: Any) -> dict[str, Any]:
        return await self.page("/sessions", **params)

    async def session(self, session_id: str, **params: Any) -> dict[str, Any]:
        return await self.call("GET", f"/sessions/{session_id}", params=params)

    async def session_participants(self, session_id: str, **params: Any) -> dict[str, Any]:
        return await self.call("GET", f"/sessions/{session_id}/participants", params=params)

    # connected meetings (breakout rooms; a salon addition)
    async def connected_meetings(self, meeting_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/meetings/{meeting_id}/connected_meetings")

    async def create_connected(self, meeting_id: str,
                               titles: list[str | None]) -> list[dict[str, Any]]:
        data = await self.call("POST", f"/meetings/{meeting_id}/connected_meetings",
                               json={"meetings": [{"title": t} for t in titles]})
        return data["meetings"]

    async def rename_connected(self, meeting_id: str, child_id: str,
                               title: str | None) -> dict[str, Any]:
        return await self.call("PATCH", f"/meetings/{meeting_id}/connected_meetings/{child_id}",
                               json={"title": title})

    async def delete_connected(self, meeting_id: str, child_id: str) -> dict[str, Any]:
        return await self.call("DELETE",
                               f"/meetings/{meeting_id}/connected_meetings/{child_id}")

    async def move_connected(self, meeting_id: str, to_meeting_id: str, *,
                             peer_ids: list[str] | None = None,
                             participant_ids: list[str] | None = None,
                             preset_name: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"to_meeting_id": to_meeting_id, "peer_ids": peer_ids or [],
                                "participant_ids": participant_ids or []}
        if preset_name is not None:
            body["preset_name"] = preset_name
        return await self.call("POST", f"/meetings/{meeting_id}/connected_meetings/move",
                               json=body)

    async def broadcast_connected(self, meeting_id: str, message: str,
                                  payload: Any = None) -> dict[str, Any]:
        return await self.call("POST", f"/meetings/{meeting_id}/connected_meetings/broadcast",
                               json={"message": message, "payload": payload})

    async def close_connected(self, meeting_id: str, *, delete: bool = False) -> dict[str, Any]:
        return await self.call("POST", f"/meetings/{meeting_id}/connected_meetings/close-all",
                               json={"delete": delete})
