"""Cluster mode with real nodes (docs/cluster.md): three salon processes on 127.0.0.2–4,
one PostgreSQL, one Redis. A meeting runs on one node whichever node its peers reach;
REST on any node acts on it; when its node is killed or drained another node carries
the same session on and the peers resume as themselves, with no acknowledged chat lost.
"""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import websockets

from salon.client import AdminClient, RealtimeClient
from salon.client.realtime import RealtimeError
from tests.cluster import Cluster, RedisLink, cluster_of
from tests.webhook_receiver import Receiver


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with cluster_of(3) as started:
        yield started


async def refusal(url: str, token: str, **join: Any) -> dict[str, Any]:
    """The error a node answers a join with (raw, to see every field)."""
    async with websockets.connect(url) as socket:
        await socket.send(orjson.dumps({"id": 1, "type": "join",
                                        "data": {"token": token, **join}}))
        reply = orjson.loads(await socket.recv())
        if reply["ok"]:
            return {}
        await socket.wait_closed()
        return {**reply["error"], "close": socket.close_code}


async def join_anywhere(cluster: Cluster, first: str, token: str,
                        timeout: float = 20, **join: Any) -> RealtimeClient:
    """Join at `first` (the client follows REDIRECTs itself), trying the other nodes, as
    a client told the cluster's `nodes` would, while nodes are gone or the meeting moves."""
    urls = [first] + [n.ws for n in cluster.nodes if n.ws != first]
    deadline = time.monotonic() + timeout
    url, attempt = first, 0
    while True:
        try:
            return await RealtimeClient.join(url, token, **join)
        except (RealtimeError, OSError, websockets.InvalidHandshake) as error:
            if time.monotonic() > deadline:
                raise
            if isinstance(error, RealtimeError) and error.code not in (
                    "REDIRECT", "MEETING_MOVING", "CLUSTER_UNAVAILABLE"):
                raise
            attempt += 1
            url = urls[attempt % len(urls)]
            await asyncio.sleep(0.2)


async def new_meeting(cluster: Cluster, presets: list[str]) -> tuple[str, list[dict]]:
    node = cluster.nodes[0]
    async with AdminClient(node.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = await admin.create_meeting(title="clustered")
        people = [await admin.add_participant(meeting["id"], f"p{i}", preset, name=f"P{i}")
                  for i, preset in enumerate(presets)]
    return meeting["id"], people


async def test_peers_reaching_three_nodes_meet_on_one(cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant", "webinar_viewer"])
    host = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    try:
        first = cluster.node(cluster.owner(meeting_id))  # the least-loaded node took it
        second, third = [n for n in cluster.nodes if n is not first]
        assert host.joined["nodes"][0] == first.url  # the node that answered runs it
        assert sorted(host.joined["nodes"]) == sorted(n.url for n in cluster.nodes)

        refused = await refusal(second.ws, people[1]["token"])
        assert refused["code"] == "REDIRECT" and refused["close"] == 4012
        assert refused["url"] == first.ws and refused["address"] == first.url

        guest = await join_anywhere(cluster, second.ws, people[1]["token"])
        viewer = await join_anywhere(cluster, third.ws, people[2]["token"])
        try:
            await host.wait_for("peer.joined", lambda d: d["peer"]["peer_id"] == guest.peer_id)
            sent = await viewer.send_text("hello from node three")
            for peer in (host, guest):
                got = await peer.wait_for("chat.message",
                                          lambda d: d["message"]["id"] == sent["id"])
                assert got["message"]["payload"]["text"] == "hello from node three"

            # REST on a node that does not run the meeting acts on the live session.
            app = cluster.app_url(third)
            async with httpx.AsyncClient(headers=cluster.headers) as rest:
                active = (await rest.get(f"{app}/meetings/{meeting_id}/active-session")).json()
                assert active["data"]["id"] == host.joined["room"]["session_id"]
                kicked = await rest.post(f"{app}/meetings/{meeting_id}/active-session/kick",
                                         json={"participant_ids": [people[2]["id"]]})
                assert kicked.status_code == 200, kicked.text
            await viewer.wait_for("self.kicked")
            await host.wait_for("peer.left", lambda d: d["peer_id"] == viewer.peer_id)
        finally:
            await guest.close()
            await viewer.close()
    finally:
        await host.close()


async def test_a_killed_node_s_meeting_goes_on_elsewhere_with_its_chat(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant"])
    entry = cluster.nodes[1]
    a = await join_anywhere(cluster, entry.ws, people[0]["token"])
    b = await join_anywhere(cluster, entry.ws, people[1]["token"])
    owner = cluster.node(cluster.owner(meeting_id))
    session_id = a.joined["room"]["session_id"]
    sent = [(await a.send_text(f"message {i}"))["id"] for i in range(20)]
    resume_a, resume_b = a.resume_info, b.resume_info
    index = cluster.nodes.index(owner)

    killed_at = time.monotonic()
    owner.kill()
    await a.closed.wait()
    survivors = [n for n in cluster.nodes if n is not owner]
    a2 = await join_anywhere(cluster, survivors[0].ws, people[0]["token"], resume=resume_a)
    b2 = await join_anywhere(cluster, survivors[1].ws, people[1]["token"], resume=resume_b)
    took = time.monotonic() - killed_at
    try:
        assert took < 10
        assert cluster.owner(meeting_id) in {n.node_id for n in survivors}
        assert a2.peer_id == a.peer_id and b2.peer_id == b.peer_id
        assert a2.joined["resumed"] is True
        assert a2.joined["room"]["session_id"] == session_id
        assert b2.peer_id in {p["peer_id"] for p in (await a2.request("state"))
                              ["room"]["peers"]} or await a2.wait_for(
            "peer.joined", lambda d: d["peer"]["peer_id"] == b2.peer_id)
        history = await a2.chat_history(limit=50)
        kept = {m["id"] for m in history["messages"]}
        assert set(sent) <= kept  # every acknowledged message survived its node
        after = await b2.send_text("after the failover")
        got = await a2.wait_for("chat.message", lambda d: d["message"]["id"] == after["id"])
        assert got["message"]["payload"]["text"] == "after the failover"
    finally:
        await a2.close()
        await b2.close()
        cluster.start_node(index)  # the next test has three nodes again


async def test_a_drained_node_hands_its_meeting_over(cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(cluster, ["group_call_host"])
    a = await join_anywhere(cluster, cluster.nodes[2].ws, people[0]["token"])
    owner = cluster.node(cluster.owner(meeting_id))
    index = cluster.nodes.index(owner)
    session_id = a.joined["room"]["session_id"]
    resume = a.resume_info
    stopping = asyncio.get_running_loop().run_in_executor(None, owner.stop)
    await a.closed.wait()
    # uvicorn closes WebSockets with 1012 as it stops; either way the peer resumes
    assert a.close_code in (1012, 4013)
    others = [n for n in cluster.nodes if n is not owner]
    a2 = await join_anywhere(cluster, others[0].ws, people[0]["token"], resume=resume)
    try:
        assert await stopping == 0
        assert a2.peer_id == a.peer_id
        assert a2.joined["room"]["session_id"] == session_id
        assert "Traceback" not in owner.log()
    finally:
        await a2.close()
        cluster.start_node(index)


async def test_a_node_cut_off_from_redis_stops_running_its_meetings(cluster: Cluster) -> None:
    link = RedisLink()
    url = await link.start()  # the relay runs in this loop: start the node beside it
    cut_off = await asyncio.to_thread(cluster.start_node, 3, {"SALON_REDIS_URL": url})
    try:
        meeting_id, people = await new_meeting(cluster, ["group_call_host"])
        a = await RealtimeClient.join(cut_off.ws, people[0]["token"])
        assert cluster.owner(meeting_id) == cut_off.node_id
        session_id, resume = a.joined["room"]["session_id"], a.resume_info
        await link.cut()
        # It cannot renew its lease: it stops acting for the room before the lease runs
        # out in Redis (3 s), telling its peers to reconnect.
        await asyncio.wait_for(a.closed.wait(), timeout=3)
        assert a.close_code == 4013
        refused = await refusal(cut_off.ws, people[0]["token"], resume=resume)
        assert refused["code"] == "CLUSTER_UNAVAILABLE" and refused["close"] == 4013
        a2 = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"],
                                 resume=resume)
        try:
            assert cluster.owner(meeting_id) != cut_off.node_id
            assert a2.peer_id == a.peer_id
            assert a2.joined["room"]["session_id"] == session_id
        finally:
            await a2.close()
    finally:
        await asyncio.to_thread(cut_off.stop)
        cluster.nodes.remove(cut_off)


async def test_breakout_rooms_run_with_their_parent_and_rest_moves_people(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant"])
    host = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    guest = await join_anywhere(cluster, cluster.nodes[1].ws, people[1]["token"])
    try:
        owner = cluster.owner(meeting_id)
        others = [n for n in cluster.nodes if n.node_id != owner]
        guest_in_parent = guest.peer_id
        family = f"{cluster.app_url(others[0])}/meetings/{meeting_id}/connected_meetings"
        async with httpx.AsyncClient(headers=cluster.headers, timeout=20) as rest:
            created = await rest.post(family, json={"meetings": [{"title": "Room A"}]})
            assert created.status_code == 201, created.text
            room_id = created.json()["data"]["meetings"][0]["id"]
            moved = await rest.post(
                f"{cluster.app_url(others[1])}/meetings/{meeting_id}/connected_meetings/move",
                json={"to_meeting_id": room_id, "participant_ids": [people[1]["id"]]})
            assert moved.status_code == 200, moved.text
        changed = await guest.wait_for("meeting.changed", lambda d: d["meeting_id"] == room_id)
        assert changed["status"] == "joined"
        assert moved.json()["data"]["moved"] == [guest_in_parent]
        assert cluster.owner(room_id) == owner  # the room runs with its parent
    finally:
        await host.close()
        await guest.close()


async def test_a_plugin_deleted_on_one_node_closes_in_rooms_on_another(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(cluster, ["group_call_host"])
    host = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    try:
        owner = cluster.owner(meeting_id)
        elsewhere = next(n for n in cluster.nodes if n.node_id != owner)
        async with httpx.AsyncClient(headers=cluster.headers, timeout=20) as rest:
            plugins = f"{cluster.app_url(elsewhere)}/plugins"
            plugin = (await rest.post(plugins, json={
                "name": "Board", "url": "https://plugins.example/board"})).json()["data"]
            await host.activate_plugin(plugin["id"])
            deleted = await rest.delete(f"{plugins}/{plugin['id']}")
            assert deleted.status_code == 200, deleted.text
        closed = await host.wait_for("plugin.deactivated")
        assert closed == {"plugin_id": plugin["id"], "by_peer_id": None, "reason": "deleted"}
    finally:
        await host.close()


async def test_each_webhook_is_delivered_once_whichever_nodes_deliver(
        cluster: Cluster) -> None:
    receiver = Receiver().up()
    try:
        async with httpx.AsyncClient(headers=cluster.headers, timeout=20) as rest:
            hook = await rest.post(f"{cluster.app_url(cluster.nodes[0])}/webhooks", json={
                "name": "cluster", "url": receiver.url("/hook"),
                "events": ["meeting.participantJoined", "meeting.participantLeft"]})
            assert hook.status_code == 201, hook.text
        # Joins and leaves in meetings run by different nodes: every node's outbox rows
        # are there for every node's dispatcher to take.
        expected, meetings = 0, []
        for node in cluster.nodes:
            meeting_id, people = await new_meeting(cluster, ["group_call_host"] * 4)
            meetings.append(meeting_id.encode())
            peers = [await join_anywhere(cluster, node.ws, p["token"]) for p in people]
            for peer in peers:
                await peer.leave()
            expected += 2 * len(peers)

        def ours() -> list:  # other tests' peers come and go in the same app meanwhile
            return [hit for hit in receiver.at("/hook")
                    if any(meeting in hit.body for meeting in meetings)]

        deadline = time.monotonic() + 30
        while len(ours()) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # a second delivery would come meanwhile
        ids = [hit.headers["rtk-uuid"] for hit in ours()]
        assert len(ids) == expected
        assert len(set(ids)) == expected  # none delivered twice
    finally:
        receiver.down()


async def test_a_session_whose_node_went_long_ago_is_ended_not_carried_on(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(cluster, ["group_call_host"])
    a = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    owner = cluster.node(cluster.owner(meeting_id))
    index = cluster.nodes.index(owner)
    old_session = a.joined["room"]["session_id"]
    async with httpx.AsyncClient(headers=cluster.headers) as rest:  # on record first
        live = await rest.get(f"{cluster.app_url(owner)}/meetings/{meeting_id}/active-session")
        assert live.json()["data"]["id"] == old_session
    owner.kill()
    await a.close()
    cluster.database.psql(f"UPDATE sessions SET last_seen_at = last_seen_at - interval "
                          f"'1 hour' WHERE id = '{old_session}'")
    try:
        others = [n for n in cluster.nodes if n is not owner]
        b = await join_anywhere(cluster, others[0].ws, people[0]["token"])
        try:
            assert b.joined["room"]["session_id"] != old_session
            async with httpx.AsyncClient(headers=cluster.headers) as rest:
                got = await rest.get(f"{cluster.app_url(others[0])}/sessions/{old_session}")
            assert got.status_code == 200, got.text
            assert got.json()["data"]["status"] == "ENDED"
        finally:
            await b.close()
    finally:
        cluster.start_node(index)


async def test_the_join_reply_is_each_peer_s_first_message_in_a_busy_join(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(cluster, ["group_call_participant"] * 25)
    first = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    owner = cluster.node(cluster.owner(meeting_id))

    async def join(token: str) -> dict[str, Any]:
        async with websockets.connect(owner.ws) as socket:
            await socket.send(orjson.dumps({"id": 1, "type": "join",
                                            "data": {"token": token}}))
            return orjson.loads(await socket.recv())

    try:
        firsts = await asyncio.gather(*(join(p["token"]) for p in people[1:]))
        assert all(message["type"] == "reply" and message["ok"] for message in firsts), [
            message for message in firsts if message["type"] != "reply"][:2]
    finally:
        await first.close()


async def test_waiting_room_and_stage_work_for_peers_that_reached_other_nodes(
        cluster: Cluster) -> None:
    node = cluster.nodes[0]
    async with AdminClient(node.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        lobby = f"lobby-{int(time.time() * 1000)}"
        await admin.create_preset(lobby, config={"view_type": "WEBINAR"}, permissions={
            "waiting_room_type": "SKIP_ON_ACCEPT", "stage_enabled": True,
            "stage_access": "CAN_REQUEST"})
        meeting = await admin.create_meeting(title="webinar")
        presenter = await admin.add_participant(meeting["id"], "host", "webinar_presenter")
        viewer = await admin.add_participant(meeting["id"], "guest", lobby)
    host = await join_anywhere(cluster, cluster.nodes[0].ws, presenter["token"])
    owner = cluster.owner(meeting["id"])
    elsewhere = next(n for n in cluster.nodes if n.node_id != owner)
    guest = await join_anywhere(cluster, elsewhere.ws, viewer["token"])
    try:
        assert guest.status == "waiting"
        await host.wait_for("waitlist.added", lambda d: d["peer"]["peer_id"] == guest.peer_id)
        await host.admit([guest.peer_id])
        await guest.wait_for("self.admitted")
        assert (await guest.stage("request"))["stage_status"] == "REQUESTED_TO_JOIN_STAGE"
        requests = await host.wait_for("stage.requests", lambda d: d["requests"])
        assert [r["peer_id"] for r in requests["requests"]] == [guest.peer_id]
        await host.stage("grant", [guest.peer_id])
        await guest.wait_for("self.updated", lambda d: d["self"]["stage_status"]
                             == "ACCEPTED_TO_JOIN_STAGE")
        assert (await guest.stage("join"))["stage_status"] == "ON_STAGE"
    finally:
        await host.close()
        await guest.close()


async def test_the_live_view_on_any_node_shows_every_node_s_rooms(cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(cluster, ["group_call_host"])
    host = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    try:
        owner = cluster.owner(meeting_id)
        elsewhere = next(n for n in cluster.nodes if n.node_id != owner)
        async with httpx.AsyncClient(headers=cluster.headers, timeout=20) as rest:
            view = (await rest.get(f"{cluster.app_url(elsewhere)}/live_sessions")).json()
            [session] = [s for s in view["data"]["sessions"] if s["meeting_id"] == meeting_id]
            assert session["session_id"] == host.joined["room"]["session_id"]
            assert [p["peer_id"] for p in session["peers"]] == [host.peer_id]
            one = (await rest.get(f"{cluster.app_url(elsewhere)}/live_sessions",
                                  params={"meeting_id": meeting_id})).json()
            assert [s["meeting_id"] for s in one["data"]["sessions"]] == [meeting_id]
    finally:
        await host.close()


async def test_a_forged_forwarding_mark_does_not_keep_a_call_from_the_meeting_s_node(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(cluster, ["group_call_host", "group_call_host"])
    host = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    other = await join_anywhere(cluster, cluster.nodes[0].ws, people[1]["token"])
    try:
        owner = cluster.owner(meeting_id)
        elsewhere = next(n for n in cluster.nodes if n.node_id != owner)
        forged = {**cluster.headers, "x-salon-forwarded-by": f"{owner}.not-a-signature"}
        async with httpx.AsyncClient(headers=forged, timeout=20) as rest:
            gone = await rest.delete(f"{cluster.app_url(elsewhere)}/meetings/{meeting_id}/"
                                     f"participants/{people[1]['id']}")
            assert gone.status_code == 200, gone.text
        await other.wait_for("self.kicked")  # the meeting's node heard of it
        await host.wait_for("peer.left", lambda d: d["peer_id"] == other.peer_id)
    finally:
        await host.close()
        await other.close()
