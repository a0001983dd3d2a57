"""Edges of the realtime protocol (docs/protocol.md), on a real server with a short idle
timeout: how connections end, what a connection may send, what the server sends."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from salon.client import RealtimeClient, RealtimeError
from salon.realtime.commands import COMMANDS
from tests.live import FAST, Meeting, admin_for
from tests.servers import SalonServer, running

IDLE_SECS = 1.0


@pytest.fixture(scope="module")
def edge_server() -> Iterator[SalonServer]:
    env = {**FAST, "SALON_REALTIME_IDLE_TIMEOUT_SECS": str(IDLE_SECS)}
    with running("", env=env) as server:
        yield server


class KeptAlive(Meeting):
    """Peers ping well within the short idle timeout, unless a test says otherwise."""

    async def connect(self, token: str, **options: Any) -> RealtimeClient:
        options.setdefault("keep_alive", IDLE_SECS / 4)
        return await super().connect(token, **options)


@pytest.fixture
async def meeting(edge_server: SalonServer) -> AsyncIterator[Meeting]:
    async with admin_for(edge_server) as admin:
        created = KeptAlive(edge_server, admin, await admin.create_meeting(title="edges"))
        try:
            yield created
        finally:
            await created.close()

# --- unknown fields ---------------------------------------------------------------------------


async def test_every_request_type_refuses_unknown_fields(meeting: Meeting) -> None:
    peer = await meeting.join("group_call_host")
    for kind in dict.fromkeys(["ping", "leave", *COMMANDS]):  # once took any fields
        with pytest.raises(RealtimeError) as refused:
            await peer.request(kind, zz_unknown=1)
        assert refused.value.code == "INVALID", kind
        assert "zz_unknown" in refused.value.message, kind
    assert not peer.closed.is_set()  # `leave` with a stray field did not leave
    assert (await peer.ping())["pong"]
