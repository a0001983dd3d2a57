"""Connected meetings (breakout rooms) requests, and following a move (docs/breakout-rooms.md).

A moved peer stays on its connection: the server sends `meeting.changing`, then
`meeting.changed` with a fresh join's reply for the new meeting. `RealtimeClient`
applies that reply as it arrives (`follow_move`), so `peer_id`, `joined` and `token`
are the new room's before anyone awaiting the event sees it.
"""

from typing import Any

from salon.client.requester import Requester


class ConnectedActions(Requester):
    joined: dict[str, Any]
    token: str
    counts: dict[str, int]

    def follow_move(self, changed: dict[str, Any]) -> None:
        """Adopt the new meeting's peer: its id, resume token, self, room and counts."""
        self.joined = {key: changed[key] for key in
                       ("peer_id", "resume_token", "status", "self", "room", "media")
                       if key in changed} | {"resumed": False, "protocol": 1}
        if changed.get("token"):
            self.token = changed["token"]
        # the new room's counts (large rooms' audience.delta keeps them current after)
        self.counts = dict((changed.get("room") or {}).get("counts") or {})

    @property
    def meeting_id(self) -> str | None:
        room = self.joined.get("room") or {}
        return (room.get("meeting") or {}).get("id")

    async def connected_meetings(self) -> dict[str, Any]:
        """`{parent_meeting, meetings, timer}`, each room with who is in it."""
        return await self.request("connected.list")

    async def create_connected(self, titles: list[str | None]) -> list[dict[str, Any]]:
        reply = await self.request("connected.create",
                                   meetings=[{"title": t} for t in titles])
        return reply["meetings"]

    async def rename_connected(self, titles: dict[str, str | None]) -> list[dict[str, Any]]:
        reply = await self.request("connected.update",
                                   meetings=[{"id": i, "title": t} for i, t in titles.items()])
        return reply["meetings"]

    async def delete_connected(self, meeting_ids: list[str]) -> dict[str, Any]:
        return await self.request("connected.delete", meeting_ids=meeting_ids)

    async def move_to(self, to_meeting_id: str, peer_ids: list[str] | None = None, *,
                      participant_ids: list[str] | None = None,
                      preset_name: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"to_meeting_id": to_meeting_id, "peer_ids": peer_ids or [],
                                "participant_ids": participant_ids or []}
        if preset_name is not None:
            data["preset_name"] = preset_name
        return await self.request("connected.move", **data)

    async def switch_meeting(self, to_meeting_id: str) -> dict[str, Any]:
        return await self.request("connected.switch", to_meeting_id=to_meeting_id)

    async def assign(self, mode: str = "round_robin", *,
                     meeting_ids: list[str] | None = None,
                     assignments: dict[str, list[str]] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"mode": mode}
        if meeting_ids is not None:
            data["meeting_ids"] = meeting_ids
        if assignments is not None:
            data["assignments"] = assignments
        return await self.request("connected.assign", **data)

    async def broadcast_rooms(self, message: str, payload: Any = None) -> dict[str, Any]:
        return await self.request("connected.broadcast", message=message, payload=payload)

    async def close_rooms(self, delete: bool = False) -> dict[str, Any]:
        return await self.request("connected.close_all", delete=delete)

    async def room_timer(self, close_in_secs: float | None,
                         warn_secs: float = 60) -> dict[str, Any]:
        return await self.request("connected.timer", close_in_secs=close_in_secs,
                                  warn_secs=warn_secs)
