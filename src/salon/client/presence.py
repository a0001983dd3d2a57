"""Presence, waiting room, stage and host-control requests (docs/protocol.md)."""

from typing import Any

from salon.client.requester import Requester


class PresenceActions(Requester):

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

    async def list_peers(self, cursor: str | None = None, limit: int | None = None,
                         search: str | None = None) -> dict[str, Any]:
        """One page of the participant list: `{peers, next_cursor, counts}` (a large
        room's audience gets no per-peer events about each other; it pages instead)."""
        data: dict[str, Any] = {}
        if cursor is not None:
            data["cursor"] = cursor
        if limit is not None:
            data["limit"] = limit
        if search is not None:
            data["search"] = search
        return await self.request("peers.list", **data)

    async def all_peers(self, search: str | None = None) -> list[dict[str, Any]]:
        """Every page of `peers.list`, followed to the end."""
        peers: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await self.list_peers(cursor, 100, search)
            peers += page["peers"]
            cursor = page["next_cursor"]
            if cursor is None:
                return peers

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
