"""The meeting page in a cluster (docs/cluster.md): when the node that served the page and
runs its meeting dies, the page resumes on another node the join reply named, as the same
peer in the same session, and carries on (chat, the people list). Three real nodes on
127.0.0.2–4, a Redis of the test's own, PostgreSQL over its socket; Chromium."""

import asyncio
from collections.abc import Iterator

import pytest

from salon.client import AdminClient, RealtimeClient
from tests.cluster import Cluster, cluster_of, private_redis
from tests.e2e.browser import Browsers, no_overflow, shoot
from tests.e2e.conftest import ARTIFACTS

NODE_ENV = {"SALON_ICE_HOSTS": "127.0.0.1", "SALON_KEEP_ALIVE_CAP_SECS": "60"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with private_redis() as redis_url, cluster_of(3, NODE_ENV, redis_url) as started:
        yield started


async def test_the_page_survives_the_death_of_its_node(cluster: Cluster,
                                                       browsers: Browsers) -> None:
    node = cluster.nodes[1]
    async with AdminClient(node.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = await admin.create_meeting(title="Failover")
        ada = await admin.add_participant(meeting["id"], "ada", "group_call_host", name="Ada")
        bob = await admin.add_participant(meeting["id"], "bob", "group_call_participant",
                                          name="Bob")
    # Chromium's Local Network Access checks would keep the page off the other loopback
    # addresses (a real cluster's nodes are other public hosts).
    person = await browsers.person("ada", ("--disable-features=LocalNetworkAccessChecks",))
    page = person.page
    await person.open(node.url, ada["token"], autojoin=1, audio=0, video=0)
    await person.wait_state("joined")
    owner = cluster.node(cluster.owner(meeting["id"]))
    assert owner is node  # the page's own node took the meeting (it was the least loaded)
    peer_id = await person.peer_id()
    session_id = await page.evaluate("() => window.salon.client.room.session_id")
    others = [n for n in cluster.nodes if n is not node]
    bob_client = await RealtimeClient.join(others[0].ws, bob["token"], auto_resume=True)
    try:
        await page.get_by_test_id("tab-chat").click()
        await bob_client.send_text("before")
        await person.wait("() => document.body.innerText.includes('before')")
        folder = ARTIFACTS / "cluster-page"
        await shoot(page, folder, "01-before")

        node.kill()  # the page's node, and its meeting's
        await bob_client.resumed.wait()
        await person.wait("() => window.salon.client.joined && "
                          "window.salon.client.joined.resumed === true", timeout=30)
        await person.wait_state("joined")
        assert await person.peer_id() == peer_id
        assert await page.evaluate("() => window.salon.client.room.session_id") == session_id
        assert await page.evaluate("() => window.salon.client.url") != node.ws
        await bob_client.send_text("after the failover")
        await person.wait("() => document.body.innerText.includes('after the failover')",
                          timeout=20)
        await shoot(page, folder, "02-after")
        await no_overflow(page)
    finally:
        await bob_client.close()
        await asyncio.to_thread(cluster.start_node, cluster.nodes.index(node), NODE_ENV)
