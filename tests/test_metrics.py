"""`/metrics` after a scripted meeting: the counters equal what happened.

A real server per database backend, REST through `AdminClient`, peers through real
WebSocket clients; the answer is parsed with prometheus_client's own parser. Figures are
compared as differences between two scrapes, so the test does not depend on what the
server did before it; on this test's own server nothing else happens meanwhile.
"""

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from salon.client import RealtimeClient, ws_url
from salon.client.realtime import RealtimeError
from tests.live import FAST, Meeting, admin_for, eventually
from tests.protocol_check import ProtocolCheck
from tests.servers import SalonServer, running, running_on
from tests.webhook_receiver import Receiver

PREFIX = "/client/v4/accounts/{account_id}/realtime/kit/{app_id}"
MEETINGS = PREFIX + "/meetings"
MEETING = PREFIX + "/meetings/{meeting_id}"
PARTICIPANTS = PREFIX + "/meetings/{meeting_id}/participants"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def metered(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    env = {**FAST, "SALON_WEBHOOK_MAX_ATTEMPTS": "1"}
    with running_on(request.param, env) as salon:
        yield salon


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: SalonServer, **headers: str) -> Samples:
    response = httpx.get(f"{server.url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


class Counting:
    """Counts every realtime message the test's clients send and receive, and passes
    them on to the protocol check."""

    def __init__(self, check: ProtocolCheck) -> None:
        self.check = check
        self.sent = self.received = 0

    def sent_(self, client: RealtimeClient, message: dict[str, Any]) -> None:
        self.sent += 1
        self.check.sent(client, message)

    def received_(self, client: RealtimeClient, message: dict[str, Any]) -> None:
        self.received += 1
        self.check.received(client, message)


class _Inspector:
    def __init__(self, counting: Counting) -> None:
        self.sent = counting.sent_
        self.received = counting.received_


async def test_counters_match_a_scripted_meeting(metered: SalonServer,
                                                 protocol_check: ProtocolCheck) -> None:
    counting = Counting(protocol_check)
    RealtimeClient.inspector = _Inspector(counting)  # type: ignore[assignment]
    before = scrape(metered)
    async with admin_for(metered) as admin:
        room = Meeting(metered, admin, await admin.create_meeting(title="Metered"))
        people = [await room.participant() for _ in range(3)]
        missing = await admin.http.get("/meetings/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404
        assert (await admin.http.get(f"/meetings/{room.id}")).status_code == 200
        peers = [await room.connect(person["token"], keep_alive=None) for person in people]
        await peers[0].send_text("hello")
        await peers[1].send_text("hi there")
        during = scrape(metered)
        text = httpx.get(f"{metered.url}/metrics").text
        # Counts only: no id, name or token of anything in the meeting is a label.
        for secret in (room.id, *(p["id"] for p in people), *(p["token"] for p in people),
                       *(peer.peer_id for peer in peers), metered.app_id, "Metered"):
            assert secret not in text
        for peer in peers:
            await peer.leave()
        after = await _after_session_ends(metered, before)
    RealtimeClient.inspector = protocol_check

    # REST, by route template and status.
    assert delta(before, after, "salon_http_requests_total", method="POST", route=MEETINGS,
                 status="201") == 1
    assert delta(before, after, "salon_http_requests_total", method="POST",
                 route=PARTICIPANTS, status="201") == 3
    assert delta(before, after, "salon_http_requests_total", method="GET", route=MEETING,
                 status="200") == 1
    assert delta(before, after, "salon_http_requests_total", method="GET", route=MEETING,
                 status="404") == 1
    # The scrape answers are counted once sent: `during` and the polls of the end.
    scrapes = delta(before, after, "salon_http_requests_total", method="GET",
                    route="/metrics", status="200")
    assert scrapes >= 3
    assert delta(before, after, "salon_http_request_duration_seconds_count", method="POST",
                 route=PARTICIPANTS) == 3
    assert not any(name == "salon_http_requests_total" and "/00000000" in str(labels)
                   for name, labels in after), "raw paths must never be labels"

    # Realtime: every message the clients sent (3 joins, 2 chats, 3 leaves) and got.
    assert counting.sent == 8
    assert delta(before, after, "salon_realtime_messages_received_total") == counting.sent
    assert delta(before, after, "salon_realtime_messages_sent_total") == counting.received
    assert 0 < delta(before, after, "salon_realtime_socket_writes_total") <= counting.received
    assert delta(before, after, "salon_realtime_joins_total") == 3
    assert delta(before, after, "salon_realtime_connections_opened_total") == 3
    assert value(after, "salon_realtime_connections") == 0

    # Live state while everyone was in, and the session's life.
    assert value(during, "salon_sessions_live") == 1
    assert value(during, "salon_rooms") == 1
    assert value(during, "salon_peers", state="joined") == 3
    assert value(during, "salon_peers", state="waiting") == 0
    assert value(during, "salon_peers_connected") == 3
    assert value(during, "salon_realtime_connections") == 3
    assert delta(before, after, "salon_sessions_started_total") == 1
    assert delta(before, after, "salon_sessions_ended_total") == 1
    assert delta(before, after, "salon_session_peers_admitted_total") == 3
    assert value(after, "salon_sessions_live") == 0
    assert value(after, "salon_peers", state="joined") == 0

    # The event loop's lag is measured, four times a second.
    assert value(after, "salon_event_loop_lag_seconds_count") > 0
    assert value(after, "process_cpu_seconds_total") > 0


async def _rooms_gone(server: SalonServer) -> None:
    """Wait until the test's rooms have closed (resume grace and keep-alive of 1.5 s
    each), so that the next test starts with no live state."""
    await eventually(lambda: value(scrape(server), "salon_rooms") == 0, timeout=15, every=0.3)


async def _after_session_ends(server: SalonServer, before: Samples) -> Samples:
    """Scrape until the session has ended (FAST's keep-alive of 1.5 s)."""
    latest: Samples = {}

    def ended() -> bool:
        nonlocal latest
        latest = scrape(server)
        return delta(before, latest, "salon_sessions_ended_total") >= 1

    await eventually(ended, timeout=10, every=0.3)
    # Let writes of the last socket land: the final counts must be stable.
    await asyncio.sleep(0.3)
    return scrape(server)


async def test_refused_joins_are_counted_by_code(metered: SalonServer) -> None:
    before = scrape(metered)
    with pytest.raises(RealtimeError):
        await RealtimeClient.join(ws_url(metered.url), "not-a-token", keep_alive=None)
    after = scrape(metered)
    assert delta(before, after, "salon_realtime_join_refusals_total", code="UNAUTHORIZED") == 1
    assert delta(before, after, "salon_realtime_joins_total") == 0


async def test_webhook_attempts_and_queue(metered: SalonServer) -> None:
    receiver = Receiver().up()
    receiver.scripts["/bad"] = [500]
    try:
        before = scrape(metered)
        async with admin_for(metered) as admin:
            for path in ("/good", "/bad"):
                await admin.call("POST", "/webhooks", json={
                    "name": path, "url": receiver.url(path), "events": ["meeting.started"]})
            room = Meeting(metered, admin, await admin.create_meeting(title="Hooked"))
            try:
                await room.join()
                receiver.wait_for("/good", 1)
                receiver.wait_for("/bad", 1)

                def settled() -> Samples | None:
                    now = scrape(metered)
                    done = (delta(before, now, "salon_webhook_attempts_total",
                                  outcome="delivered")
                            + delta(before, now, "salon_webhook_attempts_total",
                                    outcome="failed"))
                    return now if done >= 2 else None

                after = await eventually(settled, timeout=10, every=0.2)
            finally:
                await room.close()
                await _rooms_gone(metered)
            for hook in (await admin.call("GET", "/webhooks")):
                await admin.call("DELETE", f"/webhooks/{hook['id']}")
    finally:
        receiver.down()
    # SALON_WEBHOOK_MAX_ATTEMPTS=1: the 500 is a failure at once, not a retry.
    assert delta(before, after, "salon_webhook_attempts_total", outcome="delivered") == 1
    assert delta(before, after, "salon_webhook_attempts_total", outcome="failed") == 1
    assert delta(before, after, "salon_webhook_attempts_total", outcome="retry") == 0
    assert value(after, "salon_webhook_deliveries_in_flight") == 0
    assert ("salon_webhook_deliveries_pending", ()) in after


def test_refused_before_routing_is_labelled_with_its_route(metered: SalonServer) -> None:
    """body_limit answers 401 before routing: the label is still the route's template."""
    before = scrape(metered)
    url = f"{metered.app_url}/meetings"
    assert httpx.post(url, json={"title": "x"}).status_code == 401
    assert httpx.get(f"{metered.url}/no/such/path").status_code == 404
    after = scrape(metered)
    assert delta(before, after, "salon_http_requests_total", method="POST", route=MEETINGS,
                 status="401") == 1
    assert delta(before, after, "salon_http_requests_total", method="GET",
                 route="unmatched", status="404") == 1


def test_metrics_off_is_not_found() -> None:
    with running("", env={"SALON_METRICS": "off"}) as salon:
        response = httpx.get(f"{salon.url}/metrics")
        assert response.status_code == 404
        assert response.json() == {"success": False, "error": {
            "code": 404, "message": "No such endpoint."}}


def test_metrics_token_is_required_when_set() -> None:
    secret = "metrics-secret-0123456789"
    with running("", env={"SALON_METRICS_TOKEN": secret}) as salon:
        url = f"{salon.url}/metrics"
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": secret}, {"Authorization": f"Basic {secret}"}):
            refused = httpx.get(url, headers=headers)
            assert refused.status_code == 401, headers
            assert refused.headers["www-authenticate"] == "Bearer"
            body = refused.json()
            assert body["success"] is False and body["error"]["code"] == 401
            assert "SALON_METRICS_TOKEN" in body["error"]["message"]
            assert secret not in refused.text
        samples = scrape(salon, Authorization=f"Bearer {secret}")
        # The refusals were counted like any answer.
        assert value(samples, "salon_http_requests_total", method="GET", route="/metrics",
                     status="401") == 4
        assert secret not in salon.log()


async def test_waiting_peers_are_counted_apart(metered: SalonServer) -> None:
    async with admin_for(metered) as admin:
        room = Meeting(metered, admin, await admin.create_meeting(title="Lobby"))
        preset = f"await_host_{room.id[:8]}"
        await admin.create_preset(preset, permissions={
            "waiting_room_type": "ON_PRIVILEGED_USER_ENTRY"})
        before = scrape(metered)
        try:
            early = await room.join(preset, keep_alive=None)
            assert early.status == "waiting"
            waiting = scrape(metered)
            assert value(waiting, "salon_peers", state="waiting") == 1
            assert value(waiting, "salon_peers", state="joined") == 0
            assert value(waiting, "salon_peers_connected") == 1
            # Waiting is not being in a session: none started, nobody admitted.
            assert delta(before, waiting, "salon_sessions_started_total") == 0
            assert delta(before, waiting, "salon_session_peers_admitted_total") == 0
            assert delta(before, waiting, "salon_realtime_joins_total") == 1
            await room.join("group_call_host", keep_alive=None)
            await early.wait_for("self.admitted")
            admitted = scrape(metered)
            assert value(admitted, "salon_peers", state="waiting") == 0
            assert value(admitted, "salon_peers", state="joined") == 2
            assert delta(before, admitted, "salon_session_peers_admitted_total") == 2
            assert delta(before, admitted, "salon_sessions_started_total") == 1
        finally:
            await room.close()
            await _rooms_gone(metered)


def test_every_metric_is_documented_and_every_documented_one_served(
        metered: SalonServer) -> None:
    """docs/observability.md is the contract: the names it lists are exactly those served."""
    text = httpx.get(f"{metered.url}/metrics").text
    served = set()
    for family in text_string_to_metric_families(text):
        if family.type == "counter":
            served.add(family.name + "_total")
        else:
            served.add(family.name)
    docs = (Path(__file__).parents[1] / "docs" / "observability.md").read_text()
    documented = set(re.findall(r"`((?:salon|process)_[a-z_]+)`", docs))
    documented = {name for name in documented if not name.endswith(("_bucket", "_sum",
                                                                     "_count"))}
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
