"""The live view of an app's rooms and the operator's waiting-room controls (salon
extensions the dashboard's "live now" page uses), with real peers on a live server."""

import httpx

from tests.live import Meeting, eventually
from tests.servers import SalonServer


def _client(server: SalonServer) -> httpx.Client:
    return httpx.Client(base_url=server.app_url, headers=server.headers, timeout=10)


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
        early = await room.join(f"lobby_{room.id[:8]}", name="Early")
        late = await room.join(f"lobby_{room.id[:8]}", name="Late")
        assert early.status == late.status == "waiting"
        view = await eventually(lambda: _mine(http, room.id))
        assert view["session_id"] and view["started_at"] and view["peer_count"] == 1
        assert [p["name"] for p in view["peers"]] == ["Hostess"]
        assert view["peers"][0]["peer_id"] == host.peer_id and not view["peers"][0]["hidden"]
        assert {w["peer_id"] for w in view["waiting"]} == {early.peer_id, late.peer_id}
        assert view["stage_requests"] == [] and view["recording"] is False
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
        denied = http.post(f"/meetings/{room.id}/waiting_room/deny", json={"all": True})
        assert denied.json()["data"] == {"action": "deny", "peer_ids": [late.peer_id]}
        await late.wait_for("self.rejected")
        view = _mine(http, room.id)
        assert view["waiting"] == [] and view["peer_count"] == 2
        # Nobody waits now: a decision names nobody.
        empty = http.post(f"/meetings/{room.id}/waiting_room/admit", json={"all": True})
        assert empty.status_code == 404
        assert empty.json()["error"]["message"] == (
            f"Nobody is in the waiting room of meeting {room.id}.")


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
        both = http.post(path, json={"peer_ids": ["nobody"], "all": True})  # all wins
        assert both.status_code == 200 and both.json()["data"]["peer_ids"] == [waiting.peer_id]
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
