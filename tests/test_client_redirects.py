"""The Python client follows a cluster (docs/protocol.md "Clusters: redirects and failover"):
REDIRECTs at join, and with auto-resume a dropped connection resumed on the node it was
on, the entry URL, or another node it was told of.

Most tests put stand-ins for the cluster's other nodes (tests/cluster_standins.py), on
loopback addresses of their own, in front of the real server of `live_server` (resume
grace 1.5 s); the last ones run a real cluster of two nodes (tests/cluster.py). Every
message is checked against the protocol's schema, the stand-ins' too.
"""

import asyncio
import subprocess
from typing import Any

import pytest

from salon.client import AdminClient, RealtimeClient, RealtimeError, ws_url
from salon.client.cluster import candidates
from tests.cluster import Cluster, cluster_of
from tests.cluster_standins import Redirector, Relay
from tests.live import Meeting, eventually
from tests.servers import free_port


def server_url(room: Meeting) -> str:
    return ws_url(room.server.url)


async def joined(room: Meeting, url: str, **options: Any) -> RealtimeClient:
    participant = await room.participant()
    peer = await RealtimeClient.join(url, participant["token"], **options)
    room.peers.append(peer)
    return peer


def test_candidates_in_order_each_once() -> None:
    nodes = ["http://127.0.0.3:8000", "https://edge-2.example", "ftp://nope", 7]
    assert candidates("ws://127.0.0.3:8000/realtime/v1", "wss://lb.example/realtime/v1",
                      nodes) == ["ws://127.0.0.3:8000/realtime/v1",
                                 "wss://lb.example/realtime/v1",
                                 "wss://edge-2.example/realtime/v1"]


async def test_a_join_follows_redirects_to_the_node_running_the_meeting(room: Meeting) -> None:
    host = await room.join("group_call_host")
    participant = await room.participant(name="Ada")
    async with Redirector(server_url(room), host="127.0.0.2") as second, \
            Redirector(second.url, host="127.0.0.4") as first:
        ada = await RealtimeClient.join(first.url, participant["token"], name="Ada")
        room.peers.append(ada)
    assert (ada.entry_url, ada.url) == (first.url, server_url(room))
    assert ada.nodes == []  # the real server is not clustered (or says so)
    # the very same join at each hop, and the same participant at the end of them
    assert first.joins[0]["data"] == second.joins[0]["data"]
    assert first.joins[0]["data"]["token"] == participant["token"]
    assert ada.joined["self"]["participant_id"] == participant["id"]
    seen = await host.wait_for("peer.joined")
    assert seen["peer"]["peer_id"] == ada.peer_id and seen["peer"]["name"] == "Ada"
    sent = await ada.send_text("hello from the right node")
    assert (await host.wait_for("chat.message"))["message"]["id"] == sent["id"]


async def test_a_redirect_loop_gives_up_after_three(room: Meeting) -> None:
    participant = await room.participant()
    async with Redirector() as loop:
        loop.target = loop.url
        with pytest.raises(RealtimeError) as refused:
            await RealtimeClient.join(loop.url, participant["token"])
    assert refused.value.code == "REDIRECT"
    assert refused.value.details["url"] == loop.url
    assert len(loop.joins) == 4  # the first join and three redirects followed


async def test_a_join_waits_out_a_meeting_moving(room: Meeting) -> None:
    participant = await room.participant()
    async with Redirector(server_url(room), moving=2) as node:
        started = asyncio.get_running_loop().time()
        peer = await RealtimeClient.join(node.url, participant["token"])
        room.peers.append(peer)
        waited = asyncio.get_running_loop().time() - started
    assert len(node.joins) == 3 and peer.url == server_url(room)
    assert 2 <= waited < 5  # `retry_after` (1 s) twice
    assert node.joins[0]["data"] == node.joins[2]["data"]


async def test_without_auto_resume_a_4013_closes_the_client(room: Meeting) -> None:
    async with Relay(server_url(room)) as node:
        peer = await joined(room, node.url)
        await node.drop(4013)
        await asyncio.wait_for(peer.closed.wait(), 5)
    assert peer.close_code == 4013 and peer.resumes == 0
    with pytest.raises(ConnectionError):
        await peer.wait_for("chat.message", timeout=1)


async def test_auto_resume_after_4013_is_the_same_peer(room: Meeting) -> None:
    host = await room.join("group_call_host")
    async with Relay(server_url(room)) as node:
        ada = await joined(room, node.url, auto_resume=True)
        await host.wait_for("peer.joined")
        peer_id = ada.peer_id
        node.hold = True  # the next request never reaches the server
        pending = asyncio.create_task(ada.request("ping"))
        await asyncio.sleep(0.2)
        assert not pending.done()
        await node.drop(4013)
        node.hold = False
        with pytest.raises(ConnectionError):
            await pending
        assert ada.reconnecting
        with pytest.raises(ConnectionError):  # nothing is sent while it resumes
            await ada.request("ping")
        await asyncio.wait_for(ada.resumed.wait(), 10)
        assert ada.resumes == 1 and not ada.closed.is_set()
        assert ada.peer_id == peer_id and ada.joined["resumed"] is True
        assert [join["data"].get("resume") for join in node.joins] == \
            [None, {"peer_id": peer_id, "resume_token": ada.joined["resume_token"]}]
        # requests work again, and events keep coming to the same client
        sent = await ada.send_text("back")
        assert (await host.wait_for("chat.message"))["message"]["id"] == sent["id"]
        answer = await host.send_text("welcome back")
        got = await ada.wait_for("chat.message", lambda d: d["message"]["id"] == answer["id"])
        assert got["message"]["payload"] == {"text": "welcome back"}
    assert host.drain("peer.left") == []  # nobody saw it leave


async def test_keep_alive_pings_follow_the_resumed_connection(room: Meeting) -> None:
    async with Relay(server_url(room)) as node:
        ada = await joined(room, node.url, auto_resume=True, keep_alive=0.2)
        await eventually(lambda: "ping" in node.sent)
        await node.drop(4013)
        dropped_at = len(node.sent)
        await asyncio.wait_for(ada.resumed.wait(), 10)
        # nothing goes before the join on the new link, and the pings go on after it
        assert node.sent[dropped_at] == "join"
        await eventually(lambda: "ping" in node.sent[dropped_at + 1:])


async def test_resume_falls_back_to_the_entry_url(room: Meeting) -> None:
    async with Relay(server_url(room)) as node, Redirector(host="127.0.0.2") as entry:
        entry.target = node.url
        ada = await joined(room, entry.url, auto_resume=True)
        assert (ada.entry_url, ada.url) == (entry.url, node.url)
        peer_id = ada.peer_id
        entry.target = server_url(room)  # the meeting moved on: the entry knows where
        await node.stop()  # the node is gone, and its port refuses
        await asyncio.wait_for(ada.resumed.wait(), 10)
    assert ada.peer_id == peer_id and ada.url == server_url(room)
    assert ada.joined["resumed"] is True and len(entry.joins) == 2
    assert entry.joins[1]["data"]["resume"]["peer_id"] == peer_id
    assert await ada.request("ping") == {"pong": True}


async def test_resume_tries_the_nodes_the_join_reply_named(room: Meeting) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    async with Relay(server_url(room)) as node:
        node.nodes = [node.address, nobody, room.server.url]
        ada = await joined(room, node.url, auto_resume=True)
        assert ada.nodes == node.nodes and ada.entry_url == node.url
        await node.stop()  # current node and entry are the same, and gone
        await asyncio.wait_for(ada.resumed.wait(), 10)
    assert ada.url == server_url(room) and ada.joined["resumed"] is True
    assert ada.nodes == []  # what the node it resumed on said


async def test_resume_failed_closes_for_good(room: Meeting) -> None:
    dead = f"ws://127.0.0.1:{free_port()}/realtime/v1"
    async with Relay(server_url(room)) as node, Redirector(host="127.0.0.2") as entry:
        entry.target = node.url
        ada = await joined(room, entry.url, auto_resume=True)
        entry.target = dead
        await node.stop()
        await asyncio.sleep(2.5)  # past the server's resume grace (1.5 s): the peer left
        assert not ada.closed.is_set() and ada.reconnecting
        entry.target = server_url(room)
        await asyncio.wait_for(ada.closed.wait(), 10)
    assert ada.resumes == 0 and not ada.reconnecting
    with pytest.raises(ConnectionError):
        await ada.request("ping")


async def meeting_on_two_nodes(cluster: Cluster) -> tuple[str, list[dict[str, Any]]]:
    async with AdminClient(cluster.nodes[1].url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = await admin.create_meeting(title="failover")
        people = [await admin.add_participant(meeting["id"], name, preset, name=name)
                  for name, preset in (("host", "group_call_host"),
                                       ("ada", "group_call_participant"))]
    return meeting["id"], people


def recorded(cluster: Cluster, *peer_ids: str) -> bool:
    """Whether the session's records hold these peers, in the meeting (the node that
    takes a killed node's meeting over lets those peers resume, and only those)."""
    listed = ",".join(f"'{peer_id}'" for peer_id in peer_ids)
    found = subprocess.run(
        ["psql", cluster.database.url, "-tAc", "SELECT count(*) FROM session_peers "
         f"WHERE id IN ({listed}) AND left_at IS NULL"],
        check=True, capture_output=True, text=True).stdout.strip()
    return found == str(len(peer_ids))


@pytest.mark.parametrize("end", ["stop", "kill"])
async def test_auto_resume_in_a_real_cluster_when_the_meeting_s_node_ends(end: str) -> None:
    """Two real nodes: Ada reaches the second and is redirected to the first, which runs
    the meeting; when that node is drained (SIGTERM) or killed, she comes back as herself
    through her entry node, which takes the meeting over."""
    with cluster_of(2) as cluster:
        meeting_id, people = await meeting_on_two_nodes(cluster)
        # the meeting goes to the node the cluster places it on; Ada reaches the other
        host = await RealtimeClient.join(cluster.nodes[0].ws, people[0]["token"])
        first = cluster.node(str(cluster.owner(meeting_id)))
        second = next(node for node in cluster.nodes if node is not first)
        ada = await RealtimeClient.join(second.ws, people[1]["token"], auto_resume=True)
        try:
            assert (ada.entry_url, ada.url) == (second.ws, first.ws)
            assert sorted(ada.nodes) == sorted([first.url, second.url])
            assert ada.nodes[0] == first.url  # the answering node first
            peer_id = ada.peer_id
            await eventually(lambda: recorded(cluster, host.peer_id, peer_id))
            await asyncio.get_running_loop().run_in_executor(None, getattr(first, end))
            await asyncio.wait_for(ada.resumed.wait(), 20)
            assert ada.peer_id == peer_id and ada.resumes == 1
            assert ada.url == second.ws and cluster.owner(meeting_id) == second.node_id
            assert ada.nodes == [second.url]
            # the host (no auto-resume) was closed; he resumes by hand on the node left
            await asyncio.wait_for(host.closed.wait(), 5)
            host = await RealtimeClient.join(second.ws, people[0]["token"],
                                             resume=host.resume_info)
            sent = await ada.send_text("after the failover")
            got = await host.wait_for("chat.message", lambda d: d["message"]["id"] == sent["id"])
            assert got["message"]["peer_id"] == peer_id
        finally:
            await host.close()
            await ada.close()


async def test_two_peers_auto_resume_at_once_after_a_kill() -> None:
    """Both peers of a killed node's meeting resume at the same moment: Ada through her
    entry, the host (on the dead node, his entry or where it sent him) through the
    `nodes` he was told."""
    with cluster_of(2) as cluster:
        meeting_id, people = await meeting_on_two_nodes(cluster)
        host = await RealtimeClient.join(cluster.nodes[0].ws, people[0]["token"],
                                         auto_resume=True)
        first = cluster.node(str(cluster.owner(meeting_id)))
        second = next(node for node in cluster.nodes if node is not first)
        ada = await RealtimeClient.join(second.ws, people[1]["token"], auto_resume=True)
        try:
            assert host.url == ada.url == first.ws
            peer_ids = host.peer_id, ada.peer_id
            await eventually(lambda: recorded(cluster, *peer_ids))
            await asyncio.get_running_loop().run_in_executor(None, first.kill)
            for peer in (host, ada):  # host: through the `nodes` he was told
                await asyncio.wait_for(peer.resumed.wait(), 20)
            assert (host.peer_id, ada.peer_id) == peer_ids
        finally:
            await host.close()
            await ada.close()
