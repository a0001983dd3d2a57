"""A meeting's livestream goes on after its node is killed, or drained with SIGTERM
(docs/cluster.md "Failover", "Jobs"): real nodes, the real livestream runner with a real (test) encoder writing HLS
(tests/fake_livestreamer.py). The node that carries the session on takes the LIVE
livestream over and streams it from there: its status stays LIVE, it is claimed by the
new node, and the new node serves a playlist that grows; peers are told its new
`playback_url`. Any node serves the playlist (it fetches what its disk lacks from the
encoder's node), so the URL that served the old encoder's playlist serves the new one,
whose segment numbers go on after a discontinuity."""

import asyncio
import json
import subprocess

import httpx
import pytest

from salon.client import AdminClient, RealtimeClient
from tests.cluster import Cluster, cluster_of
from tests.live import eventually
from tests.test_livestream_api import LIVESTREAM_ENV

#: A dead node's registry entry outlives its meetings' leases (6 s against 3 s), as with
#: the defaults (6 s, 5 s): the node that carries the session on must wait it out.
ENV = {**LIVESTREAM_ENV, "SALON_RTMP_PORT": "0", "SALON_MEDIA_BACKEND": "none",
       "SALON_NODE_HEARTBEAT_SECS": "2"}


def claim_of(cluster: Cluster, livestream_id: str) -> tuple[str, str]:
    """The status and claimer of the livestream's latest session, as the database has it."""
    row = subprocess.run(
        ["psql", cluster.database.url, "-tAc", "SELECT status || '|' || coalesce(claimed_by, '') "
         f"FROM livestream_sessions WHERE livestream_id = '{livestream_id}' "
         "ORDER BY invoked_time DESC LIMIT 1"],
        check=True, capture_output=True, text=True).stdout.strip()
    status, _, claimer = row.partition("|")
    return status, claimer


def takeovers_of(cluster: Cluster, livestream_id: str) -> int:
    """How many encoders took the latest session over (its `config`, runner.py)."""
    config = subprocess.run(
        ["psql", cluster.database.url, "-tAc", "SELECT config FROM livestream_sessions "
         f"WHERE livestream_id = '{livestream_id}' ORDER BY invoked_time DESC LIMIT 1"],
        check=True, capture_output=True, text=True).stdout.strip()
    return int(json.loads(config).get("takeovers") or 0)


async def segments(url: str) -> list[str]:
    async with httpx.AsyncClient(timeout=5) as http:
        answer = await http.get(url)
    if answer.status_code != 200:
        return []
    return [line for line in answer.text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("end", ["killed", "drained"])
async def test_a_meeting_livestream_goes_on_from_the_node_that_carries_the_session_on(
        end: str) -> None:
    """Killed: the new node takes the dead node's claim over once it leaves the registry.
    Drained: the stopping node's encoder ends without ending the livestream and lets go
    of the claim (rather than ending it IDLE), and the new node takes it over."""
    with cluster_of(1, ENV) as cluster:
        first = cluster.nodes[0]
        async with AdminClient(first.url, cluster.account_id, cluster.app_id,
                               cluster.api_token) as admin:
            meeting = await admin.create_meeting(title="streamed", live_stream_on_start=True)
            people = [await admin.add_participant(meeting["id"], name, "group_call_host",
                                                  name=name) for name in ("host", "ada")]
        # the meeting and its livestream start on the only node there is
        host = await RealtimeClient.join(first.ws, people[0]["token"])
        ada = None
        try:
            update = await host.wait_for("livestream.updated",
                                         lambda d: d["livestream"]["status"] == "LIVE",
                                         timeout=30)
            livestream_id = update["livestream"]["id"]
            assert update["livestream"]["playback_url"].startswith(first.url)
            assert claim_of(cluster, livestream_id) == ("LIVE", first.node_id)
            assert takeovers_of(cluster, livestream_id) == 0

            second = await asyncio.to_thread(cluster.start_node, 1, ENV)
            # any node serves the playlist: the second fetches it from the first, whose
            # encoder writes it (livestream/relay.py), and a segment as it is there
            through = f"{second.url}/live/{livestream_id}/index.m3u8"
            before = await eventually(lambda: _at_least(through, 1), timeout=30)
            direct = await eventually(lambda: _at_least(
                f"{first.url}/live/{livestream_id}/index.m3u8", 1), timeout=10)
            assert set(before) & set(direct)
            async with httpx.AsyncClient(timeout=5) as http:
                relayed = await http.get(f"{second.url}/live/{livestream_id}/{direct[-1]}")
                there = await http.get(f"{first.url}/live/{livestream_id}/{direct[-1]}")
            assert relayed.status_code == 200 and relayed.content == there.content
            assert relayed.headers["content-type"] == "video/mp2t"
            assert relayed.headers["access-control-allow-origin"] == "*"
            ada = await RealtimeClient.join(second.ws, people[1]["token"], auto_resume=True)
            assert ada.url == first.ws  # sent on to the node running the meeting
            heard: dict = {}
            ada.listeners["livestream.updated"] = lambda data: heard.update(data)
            await cluster.wait_on_record(meeting["id"], 2)
            stopping = asyncio.create_task(asyncio.to_thread(
                first.kill if end == "killed" else first.stop))

            await asyncio.wait_for(ada.resumed.wait(), 30)
            assert cluster.owner(meeting["id"]) == second.node_id
            await stopping
            if end == "drained":
                assert first.process.returncode == 0
                assert "its encoder here stopped" in first.log(), first.log()

            def moved() -> dict | None:
                """What Ada knows of the livestream (told as she came back, or since)."""
                view = heard.get("livestream") or ada.joined["room"].get("livestream")
                return view if view and view["playback_url"].startswith(second.url) else None

            view = await eventually(moved, timeout=60)
            assert (view["id"], view["status"]) == (livestream_id, "LIVE")
            assert claim_of(cluster, livestream_id) == ("LIVE", second.node_id)

            # output flows from the new node: its playlist lists more and more segments,
            # at the URL that served the old one, numbered on from it after a
            # discontinuity (a player reloading it plays on)
            playback = view["playback_url"]
            assert playback == through
            listed = await eventually(lambda: _at_least(playback, 1), timeout=30)
            assert number(listed[0]) > max(number(name) for name in before + direct)
            async with httpx.AsyncClient(timeout=5) as http:
                text = (await http.get(playback)).text
            assert text.index("#EXT-X-DISCONTINUITY") < text.index(listed[0]), text
            # one takeover, its discontinuity still listed: the sequence is still 0
            # (tests/test_livestream_outputs.py serves it once the tag slid out)
            assert "DISCONTINUITY-SEQUENCE" not in text and takeovers_of(
                cluster, livestream_id) == 1
            await eventually(lambda: _at_least(playback, 1, listed[-1]), timeout=30)
            assert claim_of(cluster, livestream_id) == ("LIVE", second.node_id)

            # the new node runs it: stopped over REST, it ends cleanly there
            async with httpx.AsyncClient(headers=cluster.headers, timeout=10) as rest:
                answer = await rest.post(f"{cluster.app_url(second)}/meetings/"
                                         f"{meeting['id']}/active-livestream/stop")
            assert answer.status_code == 200, answer.text
            await eventually(lambda: claim_of(cluster, livestream_id) == (
                "IDLE", second.node_id), timeout=30)
        finally:
            await host.close()
            if ada is not None:
                await ada.close()


def number(segment: str) -> int:
    return int(segment.removesuffix(".ts").rsplit("_", 1)[-1])


async def _at_least(url: str, count: int, after: str = "") -> list[str] | None:
    listed = await segments(url)
    if len(listed) >= count and (not after or listed[-1] != after):
        return listed
    return None
