"""Large rooms (docs/large-rooms.md): past the threshold, the audience of a webinar hears
of each other as batched counts and pages the list; hosts and the stage follow everyone.

A server of its own with a threshold of 5, so a handful of real clients make a large room.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
import websockets

from salon.api.app import create_app
from salon.client import AdminClient, RealtimeClient, RealtimeError, ws_url
from salon.realtime.admission import Busy, JoinGate
from salon.services import apps
from salon.settings import Settings
from tests.live import FAST, Meeting, admin_for, eventually, ids
from tests.servers import SalonServer, free_port, in_process, running

THRESHOLD = 5
AUDIENCE = {"stage_enabled": True, "stage_access": "CAN_REQUEST",
            "show_participant_list": True}


@pytest.fixture(scope="module")
def large_server() -> Iterator[SalonServer]:
    with running("", env={**FAST, "SALON_LARGE_ROOM_THRESHOLD": str(THRESHOLD),
                          "SALON_AUDIENCE_UPDATE_SECS": "0.3"}) as salon:
        yield salon


@pytest.fixture
async def webinar(large_server: SalonServer) -> AsyncIterator[Meeting]:
    async with admin_for(large_server) as admin:
        meeting = Meeting(large_server, admin, await admin.create_meeting(title="webinar"))
        await _preset(admin, "listener", AUDIENCE)
        try:
            yield meeting
        finally:
            await meeting.close()


async def _preset(admin: AdminClient, name: str, permissions: dict) -> None:
    try:
        await admin.create_preset(name, permissions=permissions)
    except Exception:
        pass  # made by an earlier test on this server


async def _audience(room: Meeting, count: int, preset: str = "listener",
                    prefix: str = "Listener") -> list[RealtimeClient]:
    people = [await room.participant(preset, f"{prefix} {i}") for i in range(count)]
    return list(await asyncio.gather(*(room.connect(p["token"]) for p in people)))


async def test_an_audience_join_reply_is_bounded_and_lists_no_whole_audience(
        webinar: Meeting) -> None:
    host = await webinar.join("webinar_presenter", name="Host")
    crowd = await _audience(webinar, 70)
    late = await webinar.join("listener", name="Late")
    room = late.joined["room"]
    assert room["large"] is True
    # The presenter is a host, not on the stage until it steps on it.
    assert room["counts"] == {"participants": 72, "on_stage": 0, "audience": 71}
    listed = ids(room["peers"])
    assert {host.peer_id, late.peer_id} <= listed
    assert len(listed) <= 22  # the stage, the hosts, itself and a first page of 20
    assert room["peers_next_cursor"] is not None
    assert len(orjson.dumps(late.joined)) < 64 * 1024
    # The rest of the list is there, page by page.
    everyone = await late.all_peers()
    assert ids(everyone) == {host.peer_id, late.peer_id} | {p.peer_id for p in crowd}

    # Viewers who may not list (the default webinar_viewer) see the stage and counts.
    viewer = await webinar.join("webinar_viewer", name="Quiet")
    quiet = viewer.joined["room"]
    assert quiet["large"] is True and "peers_next_cursor" not in quiet
    assert ids(quiet["peers"]) == {host.peer_id, viewer.peer_id}
    with pytest.raises(RealtimeError) as denied:
        await viewer.list_peers()
    assert denied.value.code == "FORBIDDEN"

    # The host follows the whole list.
    assert len((await host.state())["room"]["peers"]) == 73


async def test_audience_presence_arrives_batched_and_hosts_get_each_peer(
        webinar: Meeting) -> None:
    host = await webinar.join("webinar_presenter", name="Host")
    early = await _audience(webinar, THRESHOLD)
    watcher = early[0]
    await asyncio.sleep(0.5)
    watcher.drain()
    host.drain()
    newcomers = await _audience(webinar, 12, prefix="New")
    await eventually(lambda: watcher.counts.get("audience") == THRESHOLD + 12)
    await asyncio.sleep(0.4)
    assert watcher.drain("peer.joined") == []
    deltas = watcher.drain("audience.delta")
    assert 1 <= len(deltas) <= 4, "batched: at most a few deltas for a burst of joins"
    seen = [p["peer_id"] for d in deltas for p in d["joined"]]
    # A sample of who came (at most 10 a delta), each once; `more` says some were left out.
    assert set(seen) <= {p.peer_id for p in newcomers} and len(set(seen)) == len(seen)
    assert len(seen) == 12 or any(d["more"] for d in deltas)
    assert all(len(d["joined"]) <= 10 for d in deltas)
    assert all(d["large"] for d in deltas)
    joined = {e["peer"]["peer_id"] for e in host.drain("peer.joined")}
    assert joined == {p.peer_id for p in newcomers}

    await asyncio.gather(*(p.leave() for p in newcomers[:3]))
    delta = await watcher.wait_for("audience.delta", lambda d: d["left"])
    assert set(delta["left"]) <= {p.peer_id for p in newcomers[:3]}
    await eventually(lambda: watcher.counts.get("audience") == THRESHOLD + 9)
    assert watcher.drain("peer.left") == []


async def test_going_on_stage_is_announced_to_the_audience(webinar: Meeting) -> None:
    host = await webinar.join("webinar_presenter", name="Host")
    crowd = await _audience(webinar, THRESHOLD + 1)
    speaker, watcher = crowd[0], crowd[-1]
    await speaker.stage("request")
    assert watcher.drain("peer.updated") == []  # a request is for the hosts
    await host.stage("grant", [speaker.peer_id])
    await speaker.wait_for("stage.granted")
    await speaker.stage("join")
    on = await watcher.wait_for("peer.updated", lambda d: d["peer"]["peer_id"] == speaker.peer_id)
    assert on["peer"]["stage_status"] == "ON_STAGE"
    await speaker.stage("leave")
    off = await watcher.wait_for(
        "peer.updated", lambda d: d["peer"]["stage_status"] != "ON_STAGE")
    assert off["peer"]["peer_id"] == speaker.peer_id


async def test_peers_list_pages_by_cursor_and_searches_names(webinar: Meeting) -> None:
    host = await webinar.join("webinar_presenter", name="Host")
    crowd = await _audience(webinar, 12)
    odd = await webinar.join("listener", name="Grace HOPPER")
    order: list[str] = []
    stamps: list[str] = []
    cursor = None
    while True:
        page = await crowd[0].list_peers(cursor, limit=5)
        assert len(page["peers"]) <= 5
        order += [p["peer_id"] for p in page["peers"]]
        stamps += [p["joined_at"] for p in page["peers"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # In joining order (the crowd joined all at once, in some order), each peer once.
    assert order[0] == host.peer_id and order[-1] == odd.peer_id
    assert sorted(order[1:-1]) == sorted(p.peer_id for p in crowd)
    assert stamps == sorted(stamps)
    assert page["counts"]["participants"] == 14

    found = await crowd[3].list_peers(search="hopp")
    assert [p["peer_id"] for p in found["peers"]] == [odd.peer_id]
    assert found["next_cursor"] is None
    assert (await crowd[3].list_peers(search="nobody by that name"))["peers"] == []

    # A cursor stays valid while people leave; a made-up one is refused.
    first = await crowd[0].list_peers(limit=3)
    await crowd[5].leave()
    rest = await crowd[0].all_peers()
    after = await crowd[0].list_peers(first["next_cursor"], limit=100)
    assert [p["peer_id"] for p in first["peers"] + after["peers"]] == [
        p["peer_id"] for p in rest]
    for bad in ({"cursor": "x"}, {"cursor": "-5"}, {"cursor": "007"}, {"cursor": "99999"},
                {"limit": 0}, {"limit": 101}, {"search": 5}):
        with pytest.raises(RealtimeError) as refused:
            await crowd[0].request("peers.list", **bad)
        assert refused.value.code == "INVALID"
    assert (await crowd[0].ping())["pong"] is True  # and the connection carries on


async def test_a_small_webinar_keeps_per_peer_events(large_server: SalonServer) -> None:
    async with admin_for(large_server) as admin:
        room = Meeting(large_server, admin, await admin.create_meeting(title="small"))
        await _preset(admin, "listener", AUDIENCE)
        try:
            await room.join("webinar_presenter", name="Host")
            first = await room.join("listener")
            second = await room.join("listener")
            assert (await first.wait_for("peer.joined"))["peer"]["peer_id"] == second.peer_id
            assert second.joined["room"]["large"] is False
            assert "peers_next_cursor" not in second.joined["room"]
        finally:
            await room.close()


async def test_polls_count_every_voter_exactly_in_a_large_room(webinar: Meeting) -> None:
    host = await webinar.join("webinar_presenter", name="Host")
    crowd = await _audience(webinar, 120)
    poll = (await host.create_poll("Tea or coffee?", ["tea", "coffee"]))["poll"]
    watcher = crowd[0]
    await watcher.wait_for("poll.created")
    votes = await asyncio.gather(*(p.vote(poll["id"], i % 2) for i, p in enumerate(crowd)))
    # An audience voter's reply is short: a whole poll view lists every voter.
    assert all(v == {"poll_id": poll["id"], "index": i % 2} for i, v in enumerate(votes))
    [tally] = [p for p in await host.polls() if p["id"] == poll["id"]]
    assert tally["voters"] == 120
    assert [o["count"] for o in tally["options"]] == [60, 60]
    # Everyone, hosts too, hears of the votes as the tally, batched: per vote, a host
    # of a 3,000-voter poll would get 3,000 events.
    await asyncio.sleep(0.8)  # past the flush interval
    for peer in (watcher, host):
        tallies = peer.drain("poll.voted")
        assert 1 <= len(tallies) < 10
        assert tallies[-1]["voters"] == 120 and tallies[-1]["counts"] == [60, 60]
        assert all(t["voted_id"] is None and t["vote"] is None for t in tallies)
    with pytest.raises(RealtimeError) as again:
        await crowd[1].vote(poll["id"], 0)
    assert again.value.code == "CONFLICT"


async def test_question_upvotes_are_counted_exactly_and_reach_the_audience_batched(
        webinar: Meeting) -> None:
    host = await webinar.join("webinar_presenter", name="Host")
    crowd = await _audience(webinar, 60)
    question = await host.ask("Will the slides be shared?")
    watcher = crowd[0]
    await watcher.wait_for("qna.asked")
    replies = await asyncio.gather(*(p.upvote(question["id"]) for p in crowd))
    # An audience member's reply is the count: a whole question lists every upvoter.
    assert sorted(r["upvotes"] for r in replies) == list(range(1, 61))
    assert all(set(r) == {"question_id", "upvotes"} for r in replies)
    [listed] = await host.questions()
    assert listed["upvotes"] == 60 and len(listed["upvoted_by"]) == 60
    assert set(listed["upvoted_by"]) == {p.joined["self"]["participant_id"] for p in crowd}
    # Everyone, the host too, hears of the count, batched, not of each upvote.
    await asyncio.sleep(0.8)  # past the flush interval
    for peer in (watcher, host):
        counts = peer.drain("qna.upvoted")
        assert 1 <= len(counts) < 10
        assert counts[-1] == {"question_id": question["id"], "upvotes": 60,
                              "upvoted_by": None}
    with pytest.raises(RealtimeError) as again:
        await crowd[1].upvote(question["id"])
    assert again.value.code == "CONFLICT"


async def test_stage_requests_reach_the_managers_as_one_list_per_flush(
        webinar: Meeting) -> None:
    host = await webinar.join("webinar_presenter", name="Host")
    crowd = await _audience(webinar, 40)
    await asyncio.gather(*(p.stage("request") for p in crowd))
    listed = (await host.request("stage.list_requests"))["requests"]
    assert {r["peer_id"] for r in listed} == {p.peer_id for p in crowd}
    await asyncio.sleep(0.8)  # past the flush interval
    lists = host.drain("stage.requests")
    assert 1 <= len(lists) < 10  # not one per request
    assert {r["peer_id"] for r in lists[-1]["requests"]} == {p.peer_id for p in crowd}
    await asyncio.gather(*(p.stage("cancel_request") for p in crowd[:10]))
    await asyncio.sleep(0.8)
    assert len(host.drain("stage.requests")[-1]["requests"]) == 30


# --- back-pressure ------------------------------------------------------------------------


async def test_the_join_gate_queues_then_refuses_with_retry_after() -> None:
    gate = JoinGate(concurrency=1, queue=1, max_wait=0.3)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.slot():
            entered.set()
            await release.wait()

    held = asyncio.create_task(holder())
    await entered.wait()
    queued = asyncio.create_task(_enter(gate))
    await asyncio.sleep(0.05)
    assert gate.waiting == 1
    with pytest.raises(Busy) as full:  # the queue is full: refused at once
        await _enter(gate)
    assert full.value.retry_after >= 1
    with pytest.raises(Busy):  # the queued one waited its longest
        await queued
    release.set()
    await held
    await _enter(gate)  # free again


async def _enter(gate: JoinGate) -> None:
    async with gate.slot():
        pass


async def test_a_saturated_node_refuses_joins_with_retry_after(tmp_path: Path) -> None:
    """A real server in this process, so the test can hold every join slot, as slow
    joins in flight would."""
    app = create_app(Settings(data_dir=tmp_path, media_backend="none", join_concurrency=2,
                              join_queue=0, join_queue_wait_secs=2))
    port = free_port()
    async with in_process(app, port):
        async with app.state.database.session() as db:
            creds = await apps.create_with_token(db, "busy", None)
        base = f"http://127.0.0.1:{port}"
        async with AdminClient(base, creds.account_id, creds.app_id,
                               creds.api_token) as admin:
            meeting = await admin.create_meeting(title="busy")
            people = [await admin.add_participant(meeting["id"], f"u{i}",
                                                  "group_call_participant", name=f"P{i}")
                      for i in range(3)]
            first = await RealtimeClient.join(ws_url(base), people[0]["token"])
            try:
                gate = app.state.join_gate
                for _ in range(gate.concurrency):
                    await gate._slots.acquire()
                async with websockets.connect(ws_url(base)) as ws:
                    await ws.send(orjson.dumps({"id": 1, "type": "join", "data": {
                        "token": people[1]["token"], "protocol": 1}}))
                    error = orjson.loads(await ws.recv())["error"]
                    assert error["code"] == "SERVER_BUSY" and error["retry_after"] >= 1
                    with pytest.raises(websockets.ConnectionClosed):
                        await ws.recv()
                    assert ws.close_code == 4010
                assert (await first.ping())["pong"] is True  # those in carry on

                # With room in the queue, a join waits for its turn instead.
                gate.queue = 5
                waiting = asyncio.create_task(RealtimeClient.join(ws_url(base),
                                                                  people[2]["token"]))
                await eventually(lambda: gate.waiting == 1)
                gate._slots.release()
                second = await waiting
                assert second.status == "joined"
                await second.close()
                gate._slots.release()
            finally:
                await first.close()


async def test_the_session_record_keeps_every_join_and_leave_of_a_burst(
        webinar: Meeting) -> None:
    """The recorder writes bursts of records in one transaction each: none may be lost."""
    host = await webinar.join("webinar_presenter", name="Host")
    crowd = await _audience(webinar, 60)
    await asyncio.gather(*(p.leave() for p in crowd[:20]))
    session_id = host.joined["room"]["session_id"]

    async def recorded() -> bool:
        active = await webinar.admin.active_session(webinar.id)
        return active["live_participants"] == 41 and active["max_concurrent_participants"] == 61

    await eventually(recorded, timeout=10)
    listed = await webinar.admin.session_participants(session_id, per_page=100)
    people = listed["participants"]
    assert len(people) == 61
    left = {p.peer_id for p in crowd[:20]}
    gone = [p for p in people if p["id"] in left]
    assert len(gone) == 20 and all(p["left_at"] for p in gone)
