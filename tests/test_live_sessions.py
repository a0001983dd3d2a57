"""The live view of an app's rooms and the operator's waiting-room controls (salon
extensions the dashboard's "live now" page uses), with real peers on a live server."""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.live import FAST, Meeting, admin_for, eventually
from tests.servers import SalonServer, ThrowawayPostgres, running


def _client(server: SalonServer) -> httpx.Client:
    return httpx.Client(base_url=server.app_url, headers=server.headers, timeout=10)


@pytest.fixture(scope="module")
def postgres_live_server() -> Iterator[SalonServer]:
    """A live server on PostgreSQL: readers there do not queue behind the room's writes
    (SQLite's one connection would hide an answer given before the writes were saved)."""
    database = ThrowawayPostgres()
    try:
        with running(database.url, env=FAST) as salon:
            yield salon
    finally:
        database.drop()


@contextmanager
def _writes_held(database_url: str, tables: str, seconds: float) -> Iterator[None]:
    """Lock `tables` against writes (reads go on) from another connection for `seconds`."""
    holder = subprocess.Popen(
        ["psql", database_url, "-v", "ON_ERROR_STOP=1", "-qc",
         f"BEGIN; LOCK TABLE {tables} IN EXCLUSIVE MODE; SELECT pg_sleep({seconds}); COMMIT;"],
        stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            held = subprocess.run(
                ["psql", database_url, "-tAc", "SELECT count(*) FROM pg_locks WHERE "
                 "mode = 'ExclusiveLock' AND relation = 'sessions'::regclass"],
                capture_output=True, text=True, check=True).stdout.strip()
            if held == "1":
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the lock was never taken")
        yield
    finally:
        assert holder.wait(10) == 0


def _mine(http: httpx.Client, meeting_id: str) -> dict | None:
    answer = http.get("/live_sessions", params={"meeting_id": meeting_id})
    assert answer.status_code == 200, answer.text
    sessions = answer.json()["data"]["sessions"]
    return sessions[0] if sessions else None


async def test_live_view_waiting_room_and_stage(live_server: SalonServer, room: Meeting) -> None:
    await room.admin.create_preset(f"lobby_{room.id[:8]}",
                                   permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    with _client(live_server) as http:
        assert _mine(http, room.id) is None
        host = await room.join("group_call_host", name="Hostess")
        guest = await room.join("group_call_participant", name="Guest")
        asker = await room.join("webinar_viewer", name="Asker")  # stage enabled: off it
        await asker.stage("request")
        early = await room.join(f"lobby_{room.id[:8]}", name="Early")
        late = await room.join(f"lobby_{room.id[:8]}", name="Late")
        assert early.status == late.status == "waiting"
        view = await eventually(lambda: _mine(http, room.id))
        assert view["session_id"] and view["started_at"] and view["peer_count"] == 3
        assert [p["name"] for p in view["peers"]] == ["Hostess", "Guest", "Asker"]
        assert view["peers"][0]["peer_id"] == host.peer_id and not view["peers"][0]["hidden"]
        assert view["peers"][2]["stage_status"] == "REQUESTED_TO_JOIN_STAGE"
        assert {w["peer_id"] for w in view["waiting"]} == {early.peer_id, late.peer_id}
        assert [(r["peer_id"], r["name"], r["preset_name"]) for r in view["stage_requests"]] == [
            (asker.peer_id, "Asker", "webinar_viewer")]
        assert view["recording"] is False
        everyone = http.get("/live_sessions").json()["data"]["sessions"]
        assert room.id in {s["meeting_id"] for s in everyone}
        assert http.get("/live_sessions", params={"meeting_id": room.id,
                                                  "peer_limit": 0}).json()[
            "data"]["sessions"][0]["peers"] == []

        admitted = http.post(f"/meetings/{room.id}/waiting_room/admit",
                             json={"peer_ids": [early.peer_id]})
        assert admitted.status_code == 200, admitted.text
        assert admitted.json()["data"] == {"action": "admit", "peer_ids": [early.peer_id]}
        assert (await early.wait_for("self.admitted"))["self"]["status"] == "joined"
        # As docs/api.md promises: the managers hear the waiting room changed, the others
        # that a peer joined.
        removed = await host.wait_for("waitlist.removed",
                                      lambda d: d["peer_id"] == early.peer_id)
        assert removed["reason"] == "admitted"
        joined = await guest.wait_for("peer.joined",
                                      lambda d: d["peer"]["peer_id"] == early.peer_id)
        assert joined["peer"]["name"] == "Early"
        denied = http.post(f"/meetings/{room.id}/waiting_room/deny", json={"all": True})
        assert denied.json()["data"] == {"action": "deny", "peer_ids": [late.peer_id]}
        await late.wait_for("self.rejected")
        view = _mine(http, room.id)
        assert view["waiting"] == [] and view["peer_count"] == 4
        # Nobody waits now: as the realtime `waitlist.admit`, `all` admits nobody and a
        # named peer is not in the waiting room.
        for what in ("admit", "deny"):
            empty = http.post(f"/meetings/{room.id}/waiting_room/{what}", json={"all": True})
            assert empty.status_code == 200, empty.text
            assert empty.json()["data"] == {"action": what, "peer_ids": []}
            named = http.post(f"/meetings/{room.id}/waiting_room/{what}",
                              json={"peer_ids": [late.peer_id]})
            assert named.status_code == 404
            assert named.json()["error"]["message"] == (
                f"No peer {late.peer_id} in the waiting room.")


async def test_denials_and_bad_input(live_server: SalonServer, room: Meeting) -> None:
    await room.admin.create_preset(f"lobby2_{room.id[:8]}",
                                   permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    waiting = await room.join(f"lobby2_{room.id[:8]}", name="Waits")
    with _client(live_server) as http:
        path = f"/meetings/{room.id}/waiting_room/admit"
        for body, problem in (({}, "Name peers in 'peer_ids', or set 'all' to true."),
                              ({"all": "yes"}, "body.all: Input should be a valid boolean"),
                              ({"peer_ids": "p"}, "body.peer_ids: Input should be a valid list")):
            bad = http.post(path, json=body)
            assert bad.status_code == 400, bad.text
            assert problem in bad.json()["error"]["message"]
        stranger = http.post(path, json={"peer_ids": ["nobody"]})
        assert stranger.status_code == 404
        assert stranger.json()["error"]["message"] == "No peer nobody in the waiting room."
        assert http.get("/live_sessions", params={"peer_limit": 1001}).status_code == 400
        long_id = http.get("/live_sessions", params={"meeting_id": "m" * 65})
        assert long_id.status_code == 400
        assert "query.meeting_id: String should have at most 64 characters" in long_id.json()[
            "error"]["message"]
        for peer_ids in (["nobody"], [waiting.peer_id], []):  # either, as realtime says
            both = http.post(path, json={"peer_ids": peer_ids, "all": True})
            assert both.status_code == 400, both.text
            assert both.json()["error"]["message"] == "Give either 'peer_ids' or 'all': true."
        assert [w["peer_id"] for w in _mine(http, room.id)["waiting"]] == [waiting.peer_id]
        everyone = http.post(path, json={"all": True, "peer_ids": None})
        assert everyone.status_code == 400  # null is not a list of peers either
        everyone = http.post(path, json={"all": True})
        assert everyone.status_code == 200
        assert everyone.json()["data"]["peer_ids"] == [waiting.peer_id]
        await waiting.wait_for("self.admitted")
        unknown = http.post("/meetings/00000000-0000-0000-0000-000000000000/waiting_room/deny",
                            json={"all": True})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == (
            "Meeting 00000000-0000-0000-0000-000000000000 not found.")

        other_app = http.post(live_server.account_url + "/apps",
                              json={"name": "live-other"}).json()["data"]["app"]["id"]
        scoped = http.post(live_server.account_url + "/api_tokens",
                           json={"name": "o", "app_id": other_app}).json()["data"]["token"]
        with httpx.Client(base_url=live_server.account_url, timeout=10,
                          headers={"Authorization": f"Bearer {scoped}"}) as outsider:
            assert outsider.get(f"/{live_server.app_id}/live_sessions").status_code == 404
            # Its own app's view never shows this app's rooms.
            own = outsider.get(f"/{other_app}/live_sessions").json()["data"]["sessions"]
            assert own == []
            assert outsider.get(f"/{other_app}/live_sessions",
                                params={"meeting_id": room.id}).json()["data"]["sessions"] == []
            sideways = outsider.post(f"/{other_app}/meetings/{room.id}/waiting_room/admit",
                                     json={"all": True})
            assert sideways.status_code == 404
            assert sideways.json()["error"]["message"] == f"Meeting {room.id} not found."
        assert _mine(http, room.id)["waiting"] == []


async def test_an_admission_is_on_record_when_the_answer_comes(
        postgres_live_server: SalonServer) -> None:
    """Like a kick, a REST admission answers once the join is saved: the session it
    started and its participant are listed by the very next request."""
    server = postgres_live_server
    async with admin_for(server) as admin:
        await admin.create_preset("lobby3", permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
        room = Meeting(server, admin, await admin.create_meeting(title="admitted"))
        try:
            await _admit_and_list(server, room)
        finally:
            await room.close()


async def _admit_and_list(server: SalonServer, room: Meeting) -> None:
    crowd = [await room.join("lobby3", name=f"Guest {n:02}") for n in range(3)]
    with _client(server) as http:
        await eventually(lambda: _mine(http, room.id))
        assert http.get("/sessions", params={"associated_id": room.id}).json()["data"][
            "sessions"] == []
        # The room's records wait behind a lock for a moment, readers do not: an answer
        # given before the records were saved would be followed by a list without them.
        with _writes_held(server.database_url, "sessions, session_peers", 0.8):
            admitted = http.post(f"/meetings/{room.id}/waiting_room/admit",
                                 json={"all": True})
            assert admitted.status_code == 200, admitted.text
            listed = http.get("/sessions", params={"associated_id": room.id}).json()[
                "data"]["sessions"]
        assert [s["status"] for s in listed] == ["LIVE"]
        people = http.get(f"/sessions/{listed[0]['id']}/participants").json()["data"][
            "participants"]
        assert sorted(p["display_name"] for p in people) == [f"Guest {n:02}" for n in range(3)]
    for peer in crowd:
        await peer.wait_for("self.admitted")
