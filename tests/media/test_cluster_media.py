"""Media in a cluster (docs/cluster.md): peers that reach different nodes are sent to the
node running their meeting, and their media meets on its SFU. Runs in the private
network namespace like every media test, with a Redis of its own and PostgreSQL over
its Unix socket."""

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
