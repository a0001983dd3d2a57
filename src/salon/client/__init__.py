"""salon's Python client: the REST API for operators, the realtime protocol for peers.

    from salon.client import AdminClient, RealtimeClient

    async with AdminClient(base_url, account_id, app_id, api_token) as admin:
        meeting = await admin.create_meeting(title="Standup")
        host = await admin.add_participant(meeting["id"], "ada", "group_call_host")
    peer = await RealtimeClient.join(ws_url(base_url), host["token"])
    await peer.set_media(audio=True)
    joined = await peer.wait_for("peer.joined")

Used by the tests, the benchmarks and bots.
"""

from salon.client.admin import AdminClient, ApiError
from salon.client.realtime import RealtimeClient, RealtimeError, ws_url

__all__ = ["AdminClient", "ApiError", "RealtimeClient", "RealtimeError", "ws_url"]
