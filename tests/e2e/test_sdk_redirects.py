"""The browser SDK follows a cluster (docs/protocol.md "Clusters: redirects and failover"),
in Chromium: REDIRECTs at join, MEETING_MOVING waited out, the give-up after three, a
resume after 4013, one on the nodes a join reply named when the node it was on is gone,
and the end of resuming at RESUME_FAILED.

The other nodes are stand-ins (tests/cluster_standins.py) on their own loopback
addresses. The meeting page allows WebSockets to its own origin only (CSP), so the SDK
runs in a bare page that the test serves on the real server's origin.
"""

import asyncio
from typing import Any

from playwright.async_api import Page, Route

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.cluster_standins import Redirector, Relay
from tests.e2e.browser import Browsers
from tests.servers import SalonServer, free_port

JOIN = """async ({url, token}) => {
    const { SalonClient } = await import("/sdk/v1/salon.js");
    try {
        const client = await SalonClient.join(url, token, {name: "Ada"});
        window.client = client;
        window.resumes = [];
        client.on("resumed", () => window.resumes.push(client.peerId));
        return {entry: client.entryUrl, url: client.url, nodes: client.nodes,
                peerId: client.peerId, participantId: client.self.participant_id};
    } catch (error) {
        return {code: error.code, details: error.details};
    }
}"""


async def sdk_page(browsers: Browsers, server: SalonServer) -> Page:
    """A page on the server's origin without the meeting page's CSP."""
    # A page the test serves (route.fulfill) has no address to call local, so Chromium's
    # Local Network Access checks would refuse its sockets to the other loopback nodes.
    person = await browsers.person("ada", ("--disable-features=LocalNetworkAccessChecks",))
    blank = f"{server.url}/cluster-check"

    async def bare(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html",
                            body="<!doctype html><title>cluster check</title>")

    await person.page.route(blank, bare)
    await person.page.goto(blank)
    return person.page


async def people(admin: AdminClient, server: SalonServer) -> tuple[RealtimeClient, Any]:
    meeting = await admin.create_meeting(title="Cluster check")
    host = await admin.add_participant(meeting["id"], "host", "group_call_host", name="Host")
    ada = await admin.add_participant(meeting["id"], "ada", "group_call_participant",
                                      name="Ada")
    return await RealtimeClient.join(ws_url(server.url), host["token"]), ada


async def test_the_sdk_follows_redirects_waits_out_moves_and_gives_up_after_three(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    host, ada = await people(web_admin, web_server)
    page = await sdk_page(browsers, web_server)
    try:
        async with Redirector(ws_url(web_server.url), host="127.0.0.2") as second, \
                Redirector(second.url, host="127.0.0.4") as first:
            joined = await page.evaluate(JOIN, {"url": first.url, "token": ada["token"]})
        assert "entry" in joined, joined  # else the join failed: the error is shown
        assert joined["entry"] == first.url and joined["url"] == ws_url(web_server.url)
        assert joined["participantId"] == ada["id"] and joined["nodes"] == []
        assert first.joins[0]["data"] == second.joins[0]["data"]
        seen = await host.wait_for("peer.joined")
        assert seen["peer"]["peer_id"] == joined["peerId"]
        await page.evaluate("() => window.client.chat.send('hello from the right node')")
        said = await host.wait_for("chat.message")
        assert said["message"]["payload"] == {"text": "hello from the right node"}

        # a node the meeting is moving away from: wait (`retry_after`), then join again
        async with Redirector(ws_url(web_server.url), moving=1) as moving:
            again = await page.evaluate(JOIN, {"url": moving.url, "token": ada["token"]})
        assert again.get("url") == ws_url(web_server.url), again
        assert len(moving.joins) == 2

        async with Redirector() as loop:
            loop.target = loop.url
            refused = await page.evaluate(JOIN, {"url": loop.url, "token": ada["token"]})
        assert refused["code"] == "REDIRECT" and refused["details"]["url"] == loop.url
        assert len(loop.joins) == 4
    finally:
        await host.close()


async def test_the_sdk_resumes_after_4013_as_the_same_peer(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    host, ada = await people(web_admin, web_server)
    page = await sdk_page(browsers, web_server)
    try:
        async with Relay(ws_url(web_server.url)) as node:
            joined = await page.evaluate(JOIN, {"url": node.url, "token": ada["token"]})
            await host.wait_for("peer.joined")
            await node.drop(4013)
            await page.wait_for_function("() => window.resumes.length === 1", timeout=10000)
            assert await page.evaluate("() => window.resumes") == [joined["peerId"]]
            assert [bool(join["data"].get("resume")) for join in node.joins] == [False, True]
            await page.evaluate("() => window.client.chat.send('back')")
            said = await host.wait_for("chat.message")
            assert said["message"]["peer_id"] == joined["peerId"]
        assert host.drain("peer.left") == []
    finally:
        await host.close()


async def test_the_sdk_resumes_on_the_nodes_it_was_told_of(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    host, ada = await people(web_admin, web_server)
    page = await sdk_page(browsers, web_server)
    nobody = f"http://127.0.0.1:{free_port()}"
    try:
        async with Relay(ws_url(web_server.url)) as node:
            node.nodes = [node.address, nobody, web_server.url]
            joined = await page.evaluate(JOIN, {"url": node.url, "token": ada["token"]})
            assert joined["nodes"] == node.nodes
            await host.wait_for("peer.joined")
            await node.stop()  # the node it was on, which is also its entry, is gone
            await page.wait_for_function("() => window.resumes.length === 1", timeout=10000)
        after = await page.evaluate("() => ({url: client.url, peerId: client.peerId,"
                                    " nodes: client.nodes, entry: client.entryUrl})")
        assert after == {"url": ws_url(web_server.url), "peerId": joined["peerId"],
                         "nodes": [], "entry": node.url}
        await page.evaluate("() => window.client.chat.send('here again')")
        said = await host.wait_for("chat.message")
        assert said["message"]["peer_id"] == joined["peerId"]
    finally:
        await host.close()


async def test_the_sdk_stops_resuming_on_resume_failed(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    host, ada = await people(web_admin, web_server)
    page = await sdk_page(browsers, web_server)
    dead = f"ws://127.0.0.1:{free_port()}/realtime/v1"
    try:
        async with Relay(ws_url(web_server.url)) as node, \
                Redirector(node.url, host="127.0.0.2") as entry:
            await page.evaluate(JOIN, {"url": entry.url, "token": ada["token"]})
            await page.evaluate("""() => { window.closedWith = null;
                client.on("closed", ({reason}) => { window.closedWith = reason; }); }""")
            entry.target = dead
            await node.stop()
            await asyncio.sleep(2.5)  # past the server's resume grace (1.5 s): Ada left
            assert await page.evaluate("() => window.closedWith") is None  # still trying
            entry.target = ws_url(web_server.url)
            await page.wait_for_function("() => window.closedWith !== null", timeout=10000)
        assert "RESUME_FAILED" in await page.evaluate("() => window.closedWith")
        assert await page.evaluate("() => [window.resumes.length, client.closed]") == [0, True]
    finally:
        await host.close()
