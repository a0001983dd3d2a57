"""A webhook's delivery log and redelivery (salon extension), with a real receiver on
loopback and real events from a peer joining a live session; on both backends.

The log test has servers of its own: the shared ones carry other tests' webhooks (the
fuzzer's, to unreachable URLs), whose retries would hold the dispatcher's slots."""

import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from salon.client import RealtimeClient, ws_url
from tests.live import eventually
from tests.servers import SalonServer, ThrowawayPostgres, running
from tests.webhook_receiver import HANG, Receiver


def _client(server: SalonServer) -> httpx.Client:
    return httpx.Client(base_url=server.app_url, headers=server.headers, timeout=10)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    database = ThrowawayPostgres() if request.param == "postgresql" else None
    try:
        with running(database.url if database else "") as salon:
            yield salon
    finally:
        if database:
            database.drop()


async def test_log_shows_failures_and_redelivery_succeeds(own_server: SalonServer) -> None:
    server = own_server
    receiver = Receiver().up()
    peer = None
    try:
        receiver.scripts["/hook"] = [400]  # a 4xx is not retried: the delivery fails
        with _client(server) as http:
            hook = http.post("/webhooks", json={"name": "log", "url": receiver.url("/hook"),
                                                "events": ["meeting.started"]}).json()["data"]
            meeting = http.post("/meetings", json={"title": "deliveries"}).json()["data"]
            joiner = http.post(f"/meetings/{meeting['id']}/participants", json={
                "custom_participant_id": "h", "preset_name": "group_call_host"}).json()["data"]
            peer = await RealtimeClient.join(ws_url(server.url), joiner["token"])
            path = f"/webhooks/{hook['id']}/deliveries"

            def failed() -> list[dict]:
                rows = http.get(path).json()["data"]
                return [row for row in rows if row["status"] == "failed"]

            row = (await eventually(failed, timeout=10))[0]
            assert row["event"] == "meeting.started" and row["attempts"] == 1
            assert row["last_status_code"] == 400 and row["last_error"] == "HTTP 400"
            assert row["next_attempt_at"] is None and row["delivered_at"] is None
            assert receiver.at("/hook")[0].headers["rtk-uuid"] == row["id"]

            other = http.post("/webhooks", json={"name": "other", "url": receiver.url("/other"),
                                                 "events": ["meeting.ended"]}).json()["data"]
            crossed = http.post(f"/webhooks/{other['id']}/deliveries/{row['id']}/redeliver")
            assert crossed.status_code == 404  # a delivery of another webhook
            assert crossed.json()["error"]["message"] == f"Delivery {row['id']} not found."
            http.delete(f"/webhooks/{other['id']}")
            again = http.post(f"{path}/{row['id']}/redeliver")
            assert again.status_code == 201, again.text
            fresh = again.json()["data"]
            assert fresh["id"] != row["id"] and fresh["status"] == "pending"
            assert fresh["attempts"] == 0 and fresh["next_attempt_at"] is not None
            hits = receiver.wait_for("/hook", 2)
            assert hits[1].body == hits[0].body and hits[1].headers["rtk-uuid"] == fresh["id"]

            def delivered() -> dict | None:
                rows = {r["id"]: r for r in http.get(path).json()["data"]}
                return rows[fresh["id"]] if rows[fresh["id"]]["status"] == "delivered" else None

            done = await eventually(delivered, timeout=10)
            assert done["last_status_code"] == 200 and done["delivered_at"] is not None
            listed = http.get(path, params={"status": "failed"}).json()
            assert [r["id"] for r in listed["data"]] == [row["id"]]
            assert listed["paging"]["total_count"] == 1
            newest_first = http.get(path).json()["data"]
            assert [r["id"] for r in newest_first[:2]] == [fresh["id"], row["id"]]
            http.delete(f"/webhooks/{hook['id']}")
    finally:
        if peer is not None:
            await peer.close()
        receiver.down()


async def _one_delivery(http: httpx.Client, server: SalonServer, url: str,
                        ) -> tuple[dict, RealtimeClient]:
    """A webhook to `url` and the `meeting.started` a joining peer makes it send."""
    hook = http.post("/webhooks", json={"name": "again", "url": url,
                                        "events": ["meeting.started"]}).json()["data"]
    meeting = http.post("/meetings", json={"title": "redeliveries"}).json()["data"]
    joiner = http.post(f"/meetings/{meeting['id']}/participants", json={
        "custom_participant_id": "h", "preset_name": "group_call_host"}).json()["data"]
    return hook, await RealtimeClient.join(ws_url(server.url), joiner["token"])


async def test_redelivery_is_refused_while_pending_or_disabled(own_server: SalonServer) -> None:
    server = own_server
    receiver = Receiver().up()
    receiver.scripts["/slow"] = [HANG]  # the first attempt is in flight until released
    peer = None
    try:
        with _client(server) as http:
            hook, peer = await _one_delivery(http, server, receiver.url("/slow"))
            path = f"/webhooks/{hook['id']}/deliveries"
            receiver.wait_for("/slow", 1)
            row = http.get(path).json()["data"][0]
            assert row["status"] == "pending"  # being sent right now
            early = http.post(f"{path}/{row['id']}/redeliver")
            assert early.status_code == 409, early.text
            assert early.json() == {"success": False, "error": {"code": 409, "message": (
                f"Delivery {row['id']} is still pending; only a delivered or failed "
                "delivery can be sent again.")}}
            receiver.released.set()

            def delivered() -> dict | None:
                rows = http.get(path).json()["data"]
                return rows[0] if rows[0]["status"] == "delivered" else None

            await eventually(delivered, timeout=10)
            assert len(http.get(path).json()["data"]) == 1  # nothing was queued again

            off = http.patch(f"/webhooks/{hook['id']}", json={"enabled": False})
            assert off.status_code == 200, off.text
            disabled = http.post(f"{path}/{row['id']}/redeliver")
            assert disabled.status_code == 409, disabled.text
            assert disabled.json()["error"]["message"] == (
                f"Webhook {hook['id']} is disabled; enable it to redeliver.")
            assert len(http.get(path).json()["data"]) == 1
            http.patch(f"/webhooks/{hook['id']}", json={"enabled": True})
            again = http.post(f"{path}/{row['id']}/redeliver")
            assert again.status_code == 201, again.text
            assert len(receiver.wait_for("/slow", 2)) == 2
            http.delete(f"/webhooks/{hook['id']}")
    finally:
        receiver.released.set()
        if peer is not None:
            await peer.close()
        receiver.down()


def _psql(server: SalonServer, sql: str) -> str:
    return subprocess.run(["psql", server.database_url, "-tAc", sql], capture_output=True,
                          text=True, check=True).stdout.strip()


async def test_redelivery_to_a_webhook_deleted_meanwhile_is_404(own_server: SalonServer) -> None:
    """The webhook is deleted between the redelivery's read and its insert: PostgreSQL
    refuses the new row (foreign key); the answer is the 404 a moment later would give."""
    server = own_server
    if not server.database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers: the two cannot interleave")
    receiver = Receiver().up()
    peer = None
    try:
        with _client(server) as http:
            hook, peer = await _one_delivery(http, server, receiver.url("/ok"))
            path = f"/webhooks/{hook['id']}/deliveries"
            receiver.wait_for("/ok", 1)

            def delivered() -> dict | None:
                rows = http.get(path).json()["data"]
                return rows[0] if rows and rows[0]["status"] == "delivered" else None

            row = await eventually(delivered, timeout=10)
            # Writes to the log wait behind a lock: the redelivery's insert first, then the
            # delete's cascade; when it goes, the delete commits and the insert fails.
            holder = subprocess.Popen(
                ["psql", server.database_url, "-qc", "BEGIN; LOCK TABLE webhook_deliveries "
                 "IN EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT;"], stdout=subprocess.DEVNULL)
            waiting = ("SELECT count(*) FROM pg_locks WHERE NOT granted "
                       "AND relation = 'webhook_deliveries'::regclass")
            with ThreadPoolExecutor(2) as pool:
                await eventually(lambda: _psql(server, "SELECT count(*) FROM pg_locks WHERE "
                                               "granted AND mode = 'ExclusiveLock' AND relation"
                                               " = 'webhook_deliveries'::regclass") == "1")
                again = pool.submit(http.post, f"{path}/{row['id']}/redeliver")
                await eventually(lambda: _psql(server, waiting) == "1")
                gone = pool.submit(http.delete, f"/webhooks/{hook['id']}")
                await eventually(lambda: _psql(server, waiting) == "2")
                again, gone = again.result(10), gone.result(10)
            assert holder.wait(10) == 0
            assert gone.status_code == 200, gone.text
            assert again.status_code == 404, again.text
            assert again.json()["error"]["message"] == f"Webhook {hook['id']} not found."
    finally:
        if peer is not None:
            await peer.close()
        receiver.down()


def test_denials_and_bad_input(server: SalonServer) -> None:
    live_server = server
    with _client(live_server) as http:
        hook = http.post("/webhooks", json={"name": "d", "url": "http://127.0.0.1:9/x",
                                            "events": ["meeting.ended"]}).json()["data"]
        base = f"/webhooks/{hook['id']}/deliveries"
        bad = http.get(base, params={"status": "lost"})
        assert bad.status_code == 400
        assert bad.json()["error"]["message"].startswith("query.status: Input should be")
        unknown = http.get("/webhooks/00000000-0000-0000-0000-000000000000/deliveries")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == (
            "Webhook 00000000-0000-0000-0000-000000000000 not found.")
        gone = http.post(f"{base}/00000000-0000-0000-0000-000000000000/redeliver")
        assert gone.status_code == 404
        assert gone.json()["error"]["message"] == (
            "Delivery 00000000-0000-0000-0000-000000000000 not found.")
        other = http.post(live_server.account_url + "/apps", json={"name": "deliv-other"})
        other_app = other.json()["data"]["app"]["id"]
        scoped = httpx.post(live_server.account_url + "/api_tokens", headers=live_server.headers,
                            json={"name": "o", "app_id": other_app}).json()["data"]["token"]
        with httpx.Client(base_url=live_server.account_url, timeout=10,
                          headers={"Authorization": f"Bearer {scoped}"}) as outsider:
            # Another app's token: this app is as if absent; so is the webhook from its app.
            denied = outsider.get(f"/{live_server.app_id}{base}")
            assert denied.status_code == 404
            assert denied.json()["error"]["message"] == f"App {live_server.app_id} not found."
            sideways = outsider.get(f"/{other_app}{base}")
            assert sideways.status_code == 404
            assert sideways.json()["error"]["message"] == f"Webhook {hook['id']} not found."
            redeliver = outsider.post(f"/{other_app}{base}/x/redeliver")
            assert redeliver.status_code == 404
        http.delete(f"/webhooks/{hook['id']}")
