"""Helpers for tests of live sessions: a fast server, participants, and joined peers."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.servers import SalonServer

#: Short windows so keep-alive, resume and heartbeats can be watched within a test.
FAST = {
    "SALON_KEEP_ALIVE_CAP_SECS": "1.5",
    "SALON_RESUME_GRACE_SECS": "1.5",
    "SALON_SESSION_HEARTBEAT_SECS": "0.5",
}


class Meeting:
    """A meeting on a live server, with shortcuts to add people and join them."""

    def __init__(self, server: SalonServer, admin: AdminClient, data: dict[str, Any]) -> None:
        self.server = server
        self.admin = admin
        self.data = data
        self.id = data["id"]
        self.peers: list[RealtimeClient] = []
        self.count = 0

    async def participant(self, preset: str = "group_call_participant",
                          name: str | None = None) -> dict[str, Any]:
        self.count += 1
        return await self.admin.add_participant(self.id, f"user-{self.count}", preset,
                                                name=name or f"Person {self.count}")

    async def join(self, preset: str = "group_call_participant", name: str | None = None,
                   **options: Any) -> RealtimeClient:
        participant = await self.participant(preset, name)
        return await self.connect(participant["token"], **options)

    async def connect(self, token: str, **options: Any) -> RealtimeClient:
        peer = await RealtimeClient.join(ws_url(self.server.url), token, **options)
        self.peers.append(peer)
        return peer

    async def close(self) -> None:
        await asyncio.gather(*(peer.close() for peer in self.peers), return_exceptions=True)


@asynccontextmanager
async def admin_for(server: SalonServer) -> AsyncIterator[AdminClient]:
    async with AdminClient(server.url, server.account_id, server.app_id,
                           server.api_token) as admin:
        yield admin


async def eventually(check: Callable[[], Any], timeout: float = 5, every: float = 0.05) -> Any:
    """Poll an async or sync check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)


def ids(peers: list[dict[str, Any]]) -> set[str]:
    return {peer["peer_id"] for peer in peers}
