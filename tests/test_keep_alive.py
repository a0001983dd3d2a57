"""The server drops a realtime connection that says nothing; the Python client pings so a
peer that only receives (media, say) is not dropped."""

import asyncio

from salon.client import RealtimeClient, ws_url
from tests.live import admin_for
from tests.servers import running


async def test_silent_connections_are_dropped_and_the_client_keeps_itself_alive() -> None:
    with running("", env={"SALON_REALTIME_IDLE_TIMEOUT_SECS": "1"}) as server:
        async with admin_for(server) as admin:
            meeting = await admin.create_meeting(title="idle")
            tokens = [(await admin.add_participant(meeting["id"], f"u{n}",
                                                   "group_call_participant"))["token"]
                      for n in range(2)]
            silent = await RealtimeClient.join(ws_url(server.url), tokens[0], keep_alive=None)
            pinging = await RealtimeClient.join(ws_url(server.url), tokens[1], keep_alive=0.3)
            await asyncio.sleep(2.5)
            assert silent.closed.is_set()  # the server dropped it
            assert not pinging.closed.is_set() and (await pinging.ping())["pong"]
            await pinging.leave()
            await silent.close()
