"""A meeting livestreamed by the real compositor goes on after its node is killed
(docs/cluster.md "Failover"): in the private network namespace, a node alone starts the
meeting and its livestream (the real recorder engine joins as the hidden livestreamer);
a second node comes up, a peer publishing a red picture reaches it and is sent on; the
first node is SIGKILLed; the peer resumes on the second node, which takes the LIVE
livestream over and composes it again: its playlist, at the new `playback_url`, serves
segments that show the red picture."""

import asyncio
import io
from collections.abc import AsyncIterator

import av
import httpx
import pytest

from salon.client import AdminClient, RealtimeClient
from salon.client.media import MediaSession
from tests.cluster import Cluster, cluster_of, private_redis
from tests.media.test_livestream_end_to_end import until
from tests.media.test_recording_end_to_end import share_of
from tests.media.test_recording_engine import Colour
from tests.test_livestream_failover import claim_of

RED = (230, 30, 30)
ENV = {"SALON_ICE_HOSTS": "127.0.0.1", "SALON_RTMP_PORT": "0",
       "SALON_NODE_HEARTBEAT_SECS": "1"}


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    with private_redis() as redis_url, cluster_of(1, ENV, redis_url) as started:
        yield started


async def test_the_compositor_starts_again_on_the_node_that_carries_the_session_on(
        cluster: Cluster, sessions: list) -> None:
    first = cluster.nodes[0]
    async with AdminClient(first.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = await admin.create_meeting(title="streamed")
        people = [await admin.add_participant(meeting["id"], name, "group_call_host",
                                              name=name) for name in ("host", "red")]
        host = await RealtimeClient.join(first.ws, people[0]["token"])
        red = None
        try:
            started = await admin.call("POST", f"/meetings/{meeting['id']}/livestreams",
                                       json={"video_config": {"width": 320, "height": 180}})
            livestream_id = started["id"]

            async def live() -> bool:
                shown = await admin.call("GET", f"/livestreams/{livestream_id}")
                assert shown["livestream"]["status"] != "ERRORED", shown
                return shown["livestream"]["status"] == "LIVE"

            await until(live, timeout=60)
            assert claim_of(cluster, livestream_id) == ("LIVE", first.node_id)

            second = await asyncio.to_thread(cluster.start_node, 1, ENV)
            red = await RealtimeClient.join(second.ws, people[1]["token"], auto_resume=True)
            media = await MediaSession.attach(red, ice_hosts=["127.0.0.1"])
            sessions.append(media)
            await media.publish("video", Colour(RED))
            await cluster.wait_on_record(meeting["id"], 2)
            await asyncio.to_thread(first.kill)
            await asyncio.wait_for(red.resumed.wait(), 30)

            async def taken_over() -> bool:
                return claim_of(cluster, livestream_id) == ("LIVE", second.node_id)

            await until(taken_over, timeout=40)
            playlist_url = f"{second.url}/live/{livestream_id}/index.m3u8"
            async with httpx.AsyncClient(timeout=10) as http:
                async def red_segment() -> bool:
                    answer = await http.get(playlist_url)
                    if answer.status_code != 200:
                        return False
                    names = [line for line in answer.text.splitlines()
                             if line and not line.startswith("#")]
                    if not names:
                        return False
                    segment = await http.get(playlist_url.rsplit("/", 1)[0] + "/" + names[-1])
                    with av.open(io.BytesIO(segment.content), format="mpegts") as container:
                        frames = [f.to_ndarray(format="rgb24")
                                  for f in container.decode(video=0)]
                    return bool(frames) and share_of(frames[-1], RED) > 0.2

                await until(red_segment, timeout=60)
            assert claim_of(cluster, livestream_id) == ("LIVE", second.node_id)
        finally:
            await host.close()
            if red is not None:
                await red.close()
