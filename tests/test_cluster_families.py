"""Connected meetings in a cluster, with real nodes (docs/cluster.md "Where a meeting
runs", "Failover"): a parent meeting and its breakout rooms run on one node whatever
happens — its node killed with peers in every room, a room left running apart from its
parent — and a host moves people between them again afterwards. A peer whose node dies
moments after it joined, before its join is on record, resumes as itself.
"""

import asyncio
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
import redis

from salon.client import RealtimeClient
from salon.client.realtime import RealtimeError
from tests.cluster import Cluster, cluster_of
from tests.test_cluster_rooms import join_anywhere, new_meeting

RESUME_SECS = 25


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with cluster_of(3) as started:
        yield started


async def add_room(cluster: Cluster, meeting_id: str) -> str:
    """A breakout room of the meeting, made over REST on the first node."""
    url = f"{cluster.app_url(cluster.nodes[0])}/meetings/{meeting_id}/connected_meetings"
    async with httpx.AsyncClient(headers=cluster.headers, timeout=20) as rest:
        created = await rest.post(url, json={"meetings": [{"title": "Room A"}]})
    assert created.status_code == 201, created.text
    return created.json()["data"]["meetings"][0]["id"]


async def rest_move(cluster: Cluster, via: str, meeting_id: str, to: str,
                    peer_ids: list[str]) -> httpx.Response:
    node = next(n for n in cluster.nodes if n.node_id == via)
    async with httpx.AsyncClient(headers=cluster.headers, timeout=20) as rest:
        return await rest.post(
            f"{cluster.app_url(node)}/meetings/{meeting_id}/connected_meetings/move",
            json={"to_meeting_id": to, "peer_ids": peer_ids})


async def resumed(*clients: RealtimeClient) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(*(c.resumed.wait() for c in clients)),
                               RESUME_SECS)
    except TimeoutError:
        stuck = [(c.peer_id, c.url, c.close_code, c.closed.is_set()) for c in clients
                 if not c.resumed.is_set()]
        raise AssertionError(f"not resumed: {stuck}") from None


def restart_missing(cluster: Cluster) -> None:
    """Start again the nodes a test killed: the next test has three."""
    for index, node in enumerate(cluster.nodes):
        if node.process.poll() is not None:
            cluster.start_node(index)


async def test_a_family_whose_node_dies_comes_back_on_one_node_and_moves_work(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant", "group_call_participant"])
    host = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    owner = cluster.node(cluster.owner(meeting_id))
    others = [n for n in cluster.nodes if n is not owner]
    # the guest (auto-resuming) came in at one node, the others resume at another
    guest = await join_anywhere(cluster, others[0].ws, people[1]["token"], auto_resume=True)
    third = await join_anywhere(cluster, others[1].ws, people[2]["token"])
    clients = [host, guest, third]
    try:
        room_id = await add_room(cluster, meeting_id)
        moved = await rest_move(cluster, others[0].node_id, meeting_id, room_id,
                                [guest.peer_id])
        assert moved.status_code == 200, moved.text
        await guest.wait_for("meeting.changed", lambda d: d["meeting_id"] == room_id)
        assert cluster.owner(room_id) == owner.node_id
        await cluster.wait_on_record(room_id, 1)
        await cluster.wait_on_record(meeting_id, 2)
        guest_peer = guest.peer_id

        guest.resumed.clear()
        owner.kill()
        # the breakout room's peer is back first, at a node of its own; the parent's
        # peers then come to another node, and are sent to the one that runs the family
        await resumed(guest)
        # usually at the node it first came to (others[0]); the other one if the lease
        # ran out between its two tries of a round
        home = cluster.owner(room_id)
        assert home == cluster.owner(meeting_id)
        assert home in (n.node_id for n in others)
        away = next(n for n in others if n.node_id != home)
        third = clients[2] = await join_anywhere(cluster, away.ws, people[2]["token"],
                                                 resume=third.resume_info)
        host = clients[0] = await join_anywhere(cluster, away.ws, people[0]["token"],
                                                resume=host.resume_info)
        assert cluster.owner(meeting_id) == cluster.owner(room_id) == home  # one node
        assert guest.peer_id == guest_peer and guest.meeting_id == room_id
        assert third.joined["resumed"] is True and third.meeting_id == meeting_id
        assert guest.nodes[0] == third.nodes[0] == host.nodes[0] == cluster.node(home).url

        # a host moves people between the rooms again: over REST through a node that
        # does not run them, and over the protocol
        back = await rest_move(cluster, away.node_id, meeting_id, meeting_id, [guest.peer_id])
        assert back.status_code == 200, back.text
        assert back.json()["data"]["moved"] == [guest_peer]
        await guest.wait_for("meeting.changed", lambda d: d["meeting_id"] == meeting_id)
        await host.move_to(room_id, [third.peer_id])
        changed = await third.wait_for("meeting.changed", lambda d: d["meeting_id"] == room_id)
        assert changed["status"] == "joined"
        assert cluster.owner(room_id) == cluster.owner(meeting_id) == home
    finally:
        for client in clients:
            await client.close()
        await asyncio.to_thread(restart_missing, cluster)


async def test_a_drained_family_resumes_together_elsewhere(cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant"])
    host = await join_anywhere(cluster, cluster.nodes[1].ws, people[0]["token"],
                               auto_resume=True)
    owner = cluster.node(cluster.owner(meeting_id))
    index = cluster.nodes.index(owner)
    others = [n for n in cluster.nodes if n is not owner]
    guest = await join_anywhere(cluster, others[1].ws, people[1]["token"], auto_resume=True)
    clients = [host, guest]
    try:
        room_id = await add_room(cluster, meeting_id)
        await host.move_to(room_id, [guest.peer_id])
        await guest.wait_for("meeting.changed", lambda d: d["meeting_id"] == room_id)
        for client in clients:
            client.resumed.clear()
        # both peers resume at once, wherever their clients try first
        assert await asyncio.to_thread(owner.stop) == 0
        await resumed(*clients)
        home = cluster.owner(meeting_id)
        assert home not in (None, owner.node_id) and cluster.owner(room_id) == home
        assert guest.meeting_id == room_id and host.nodes[0] == guest.nodes[0]
        await host.move_to(meeting_id, [guest.peer_id])
        await guest.wait_for("meeting.changed", lambda d: d["meeting_id"] == meeting_id)
    finally:
        for client in clients:
            await client.close()
        await asyncio.to_thread(cluster.start_node, index)


async def test_a_room_running_apart_from_its_parent_goes_to_the_parent_s_node(
        cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(cluster, ["group_call_host", "group_call_host"])
    room_id = await add_room(cluster, meeting_id)
    # someone joins the breakout room straight away: the family's lease comes with it
    async with httpx.AsyncClient(headers=cluster.headers) as rest:
        added = await rest.post(
            f"{cluster.app_url(cluster.nodes[0])}/meetings/{room_id}/participants",
            json={"preset_name": "group_call_host", "custom_participant_id": "in-room",
                  "name": "In room"})
    assert added.status_code == 201, added.text
    inside = await join_anywhere(cluster, cluster.nodes[1].ws, added.json()["data"]["token"],
                                 auto_resume=True)
    clients = [inside]
    try:
        first = cluster.owner(room_id)
        assert cluster.owner(meeting_id) == first  # the parent's lease is the family's
        # Another node takes the parent's lease (as a race or a lost lease would leave
        # it): the room now runs apart from its parent, and must go over to it.
        other = next(n for n in cluster.nodes if n.node_id != first)
        client = redis.Redis.from_url(cluster.redis_url)
        try:
            client.set(f"{cluster.name}:room:{meeting_id}", other.node_id, px=3000)
        finally:
            client.close()
        inside.resumed.clear()
        await resumed(inside)
        assert cluster.owner(room_id) == other.node_id
        assert inside.meeting_id == room_id and inside.nodes[0] == other.url

        host = await join_anywhere(cluster, cluster.nodes[2].ws, people[0]["token"])
        clients.append(host)
        assert host.nodes[0] == other.url  # the parent runs where its room went
        await host.move_to(meeting_id, [inside.peer_id])
        await inside.wait_for("meeting.changed", lambda d: d["meeting_id"] == meeting_id)
        assert cluster.owner(meeting_id) == cluster.owner(room_id) == other.node_id
    finally:
        for client_ in clients:
            await client_.close()


async def test_a_peer_killed_right_after_joining_resumes_as_itself(cluster: Cluster) -> None:
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant"])
    a = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    owner = cluster.node(cluster.owner(meeting_id))
    session_id = a.joined["room"]["session_id"]
    await cluster.wait_on_record(meeting_id, 1)
    # b's join is never saved: its node's writes to session_peers wait behind this lock
    # until the node is dead (reads, as the next node's, go through)
    db = await asyncpg.connect(cluster.database.url)
    try:
        locked = db.transaction()
        await locked.start()
        await db.execute("LOCK TABLE session_peers IN EXCLUSIVE MODE")
        try:
            b = await join_anywhere(cluster, owner.ws, people[1]["token"])
            await a.wait_for("peer.joined", lambda d: d["peer"]["peer_id"] == b.peer_id)
            await asyncio.to_thread(owner.kill)
        finally:
            await locked.rollback()
        assert await db.fetchval("SELECT count(*) FROM session_peers WHERE id = $1",
                                 b.peer_id) == 0
        survivors = [n for n in cluster.nodes if n is not owner]
        b2 = await join_anywhere(cluster, survivors[0].ws, people[1]["token"],
                                 resume=b.resume_info)
        a2 = await join_anywhere(cluster, survivors[1].ws, people[0]["token"],
                                 resume=a.resume_info)
        try:
            assert b2.peer_id == b.peer_id and b2.joined["resumed"] is True
            assert b2.joined["room"]["session_id"] == session_id
            assert a2.peer_id == a.peer_id
            state = await a2.request("state")
            assert b2.peer_id in {p["peer_id"] for p in state["room"]["peers"]}
            # now on record: as any peer, once it has left its token resumes nothing
            await b2.leave()
            deadline = time.monotonic() + 10
            while await db.fetchval("SELECT left_at FROM session_peers WHERE id = $1",
                                    b.peer_id) is None:
                assert time.monotonic() < deadline, "b's leave not on record"
                await asyncio.sleep(0.1)
            with pytest.raises(RealtimeError) as refused:
                await RealtimeClient.join(cluster.node(cluster.owner(meeting_id)).ws,
                                          people[1]["token"], resume=b.resume_info)
            assert refused.value.code == "RESUME_FAILED"
        finally:
            await a2.close()
            await b2.close()
    finally:
        await db.close()
        await asyncio.to_thread(restart_missing, cluster)


async def test_a_breakout_timer_goes_on_after_its_family_s_node_dies(cluster: Cluster) -> None:
    """The timer that closes the breakout rooms is carried on by the node that takes the
    family over (salon.cluster.family_timers): the rooms close when they were meant to."""
    meeting_id, people = await new_meeting(
        cluster, ["group_call_host", "group_call_participant"])
    host = await join_anywhere(cluster, cluster.nodes[0].ws, people[0]["token"])
    owner = cluster.node(cluster.owner(meeting_id))
    others = [n for n in cluster.nodes if n is not owner]
    guest = await join_anywhere(cluster, others[0].ws, people[1]["token"], auto_resume=True)
    clients = [host, guest]
    try:
        room_id = await add_room(cluster, meeting_id)
        await host.move_to(room_id, [guest.peer_id])
        await guest.wait_for("meeting.changed", lambda d: d["meeting_id"] == room_id)
        await cluster.wait_on_record(room_id, 1)
        await cluster.wait_on_record(meeting_id, 1)
        set_at = time.time()
        timer = await host.room_timer(20, warn_secs=6)
        guest.resumed.clear()
        owner.kill()
        await resumed(guest)
        host = clients[0] = await join_anywhere(cluster, others[1].ws, people[0]["token"],
                                                resume=host.resume_info)
        assert guest.meeting_id == room_id
        # the node that took the family over sets the timer again (from Redis) as it
        # carries the sessions on
        deadline = time.monotonic() + 5
        while (listed := await host.connected_meetings())["timer"] is None:
            assert time.monotonic() < deadline, listed
            await asyncio.sleep(0.2)
        assert listed["timer"]["ends_at"] == timer["ends_at"]
        # the new node warns, then sends everyone home when the timer runs out
        await guest.wait_for("connected_meetings.closing", timeout=30)
        changed = await guest.wait_for("meeting.changed",
                                       lambda d: d["meeting_id"] == meeting_id, timeout=30)
        assert changed["status"] == "joined"
        assert 19 <= time.time() - set_at <= 26, time.time() - set_at
    finally:
        for client in clients:
            await client.close()
        await asyncio.to_thread(restart_missing, cluster)
