"""TURN from settings reaches clients and works: a real coturn (`use-auth-secret`) on
loopback, salon configured with its URL and secret and the `relay` policy, and aiortc
peers whose media can only flow through the relay."""

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from salon.client import RealtimeClient, ws_url
from salon.client.media import MediaSession
from tests.live import FAST, admin_for
from tests.media.test_media_plane import SmallVideo
from tests.servers import free_port, running

TURNSERVER = shutil.which("turnserver")
pytestmark = pytest.mark.skipif(TURNSERVER is None,
                                reason="coturn is not installed (scripts/test-netns installs it)")


@pytest.fixture(scope="module")
def coturn() -> Iterator[tuple[str, str]]:
    port, secret = free_port(), secrets.token_hex(16)
    process = subprocess.Popen(
        [TURNSERVER, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
         f"--listening-port={port}", "--use-auth-secret", f"--static-auth-secret={secret}",
         "--realm=salon.test", "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls",
         "--min-port=49160", "--max-port=49400", "--log-file=stdout", "--simple-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        assert process.poll() is None, "turnserver did not start"
        yield f"turn:127.0.0.1:{port}?transport=udp", secret
    finally:
        process.terminate()
        process.wait(10)


async def test_media_flows_through_turn_when_the_server_says_relay(coturn) -> None:
    url, secret = coturn
    env = {**FAST, "SALON_ICE_HOSTS": "127.0.0.1", "SALON_TURN_URLS": url,
           "SALON_TURN_SECRET": secret, "SALON_ICE_TRANSPORT_POLICY": "relay"}
    with running("", env=env) as server:
        async with admin_for(server) as admin:
            meeting = await admin.create_meeting(title="through TURN")
            peers, sessions = [], []
            try:
                for n in range(2):
                    person = await admin.add_participant(meeting["id"], f"t{n}",
                                                         "group_call_host")
                    peer = await RealtimeClient.join(ws_url(server.url), person["token"])
                    peers.append(peer)
                    sessions.append(await MediaSession.attach(peer, ice_hosts=["127.0.0.1"]))
                config = peers[0].joined["media"]
                assert config["ice_transport_policy"] == "relay"
                (turn,) = config["ice_servers"]
                assert turn["urls"] == [url] and turn["username"].endswith(peers[0].peer_id)
                await sessions[0].publish("video", SmallVideo())
                video = await sessions[1].wait_track(peers[0].peer_id, "video", frames=20,
                                                     timeout=15)
                assert video.counters.keyframes >= 1
                for pc in (sessions[0].pub_pc, sessions[1].sub_pc):
                    gatherer = pc.getTransceivers()[0].sender.transport.transport.iceGatherer
                    kinds = {c.type for c in gatherer.getLocalCandidates()}
                    assert kinds == {"relay"}, kinds  # the only way the media could go
            finally:
                for session in sessions:
                    await session.close()
                for peer in peers:
                    await peer.leave()
