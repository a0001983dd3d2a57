"""Media in a cluster (docs/cluster.md): peers that reach different nodes are sent to the
node running their meeting, and their media meets on its SFU. Runs in the private
network namespace like every media test, with a Redis of its own and PostgreSQL over
its Unix socket."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from salon.client.media import MediaSession
from salon.client.media.sources import FileSource
from salon.client.media.testmedia import make_test_media
from tests.cluster import Cluster, cluster_of, private_redis
from tests.test_cluster_rooms import join_anywhere, new_meeting

NODE_ENV = {"SALON_ICE_HOSTS": "127.0.0.1"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with private_redis() as redis_url, cluster_of(3, NODE_ENV, redis_url) as started:
        yield started


@pytest.fixture(scope="module")
def test_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_test_media(tmp_path_factory.mktemp("cluster-media"), seconds=2)


async def test_peers_from_three_nodes_see_and_hear_each_other(
        cluster: Cluster, test_media: dict[str, Path], sessions: list) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant", "group_call_participant"])
    peers = [await join_anywhere(cluster, node.ws, person["token"])
             for node, person in zip(cluster.nodes, people, strict=True)]
    try:
        owner = cluster.owner(meeting_id)
        assert owner is not None
        media = [await MediaSession.attach(peer, ice_hosts=["127.0.0.1"]) for peer in peers]
        sessions.extend(media)
        await media[1].publish("video", FileSource(test_media["vp8"]))
        await media[2].publish("audio", FileSource(test_media["opus"]))
        video = await media[0].wait_track(peers[1].peer_id, "video", frames=15)
        audio = await media[0].wait_track(peers[2].peer_id, "audio", frames=10)
        also = await media[2].wait_track(peers[1].peer_id, "video", frames=15)
        assert video.counters.frames >= 15 and also.counters.frames >= 15
        assert audio.counters.frames >= 10
    finally:
        for peer in peers:
            await peer.close()


async def test_media_starts_over_on_the_node_that_takes_a_dead_node_s_meeting(
        cluster: Cluster, test_media: dict[str, Path], sessions: list) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant"])
    a = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"],
                            auto_resume=True)
    b = await join_anywhere(cluster, cluster.nodes[1].ws, people[1]["token"],
                            auto_resume=True)
    owner = cluster.node(cluster.owner(meeting_id))
    index = cluster.nodes.index(owner)
    try:
        ma = await MediaSession.attach(a, ice_hosts=["127.0.0.1"])
        mb = await MediaSession.attach(b, ice_hosts=["127.0.0.1"])
        sessions.extend([ma, mb])
        await ma.publish("video", FileSource(test_media["vp8"]))
        video = await mb.wait_track(a.peer_id, "video", frames=15)
        # the peers' rows are on record before the node goes (a takeover knows them)
        await cluster.wait_on_record(meeting_id, 2)
        owner.kill()
        await asyncio.wait_for(asyncio.gather(a.resumed.wait(), b.resumed.wait()), 30)
        assert a.nodes[0] != owner.url and b.nodes[0] == a.nodes[0]
        before = video.counters.frames
        await mb.wait_track(a.peer_id, "video", frames=before + 30, timeout=20)
    finally:
        await a.close()
        await b.close()
        await asyncio.to_thread(cluster.start_node, index, NODE_ENV)
