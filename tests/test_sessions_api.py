"""Sessions over REST (S1–S5, AN1), from real sessions, on SQLite and PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import cloudflare
import pytest
from cloudflare import Cloudflare

from salon.client import AdminClient, ApiError
from tests.live import FAST, Meeting, admin_for, eventually
from tests.servers import SalonServer, ThrowawayPostgres, cleanup, start


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def any_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    database = ThrowawayPostgres() if request.param == "postgresql" else None
    server = start(database.url if database else "", env=FAST)
    try:
        yield server
        assert "Traceback" not in server.log(), server.log()
    finally:
        cleanup(server)
        if database:
            database.drop()


@pytest.fixture(scope="module")
async def history(any_server: SalonServer) -> AsyncIterator[dict]:
    """Two ended sessions of one meeting and a live one of another."""
    async with admin_for(any_server) as admin:
        standup = Meeting(any_server, admin, await admin.create_meeting(title="Standup"))
        retro = Meeting(any_server, admin, await admin.create_meeting(title="Retro"))
        ada = await standup.participant("group_call_host", "Ada")
        bob = await standup.participant("group_call_participant", "Bob")

        a = await standup.connect(ada["token"])
        b = await standup.connect(bob["token"])
        first = a.joined["room"]["session_id"]
        await asyncio.sleep(1.0)
        await b.leave()
        b2 = await standup.connect(bob["token"])  # Bob again: a second peer, same person
        await asyncio.sleep(0.3)
        await b2.leave()
        await a.kick_all()
        await eventually(lambda: _status(admin, first, "ENDED"))

        c = await standup.connect(ada["token"])
        second = c.joined["room"]["session_id"]
        await asyncio.sleep(0.2)
        await c.kick_all()
        await eventually(lambda: _status(admin, second, "ENDED"))

        r = await retro.join("group_call_host", "Rae")
        live = r.joined["room"]["session_id"]
        await eventually(lambda: _status(admin, live, "LIVE"))
        yield {"admin": admin, "standup": standup, "retro": retro, "first": first,
               "second": second, "live": live, "ada": ada, "bob": bob, "bob_peer": b.peer_id}
        await standup.close()
        await retro.close()


async def _status(admin: AdminClient, session_id: str, status: str) -> bool:
    try:
        return (await admin.session(session_id))["status"] == status
    except ApiError:
        return False


async def test_list_filters_sorting_paging(history: dict) -> None:
    admin: AdminClient = history["admin"]
    everything = await admin.sessions(per_page=100)
    listed = [s["id"] for s in everything["data"]["sessions"]]
    assert listed[:3] == [history["live"], history["second"], history["first"]]  # newest first
    assert everything["paging"]["total_count"] == 3

    assert [s["id"] for s in (await admin.sessions(status="LIVE"))["data"]["sessions"]] == \
        [history["live"]]
    by_meeting = await admin.sessions(associated_id=history["standup"].id, sort_order="ASC")
    assert [s["id"] for s in by_meeting["data"]["sessions"]] == [history["first"],
                                                                 history["second"]]
    assert [s["id"] for s in (await admin.sessions(search="retro"))["data"]["sessions"]] == \
        [history["live"]]
    assert [s["id"] for s in (await admin.sessions(search=history["first"]))["data"]
            ["sessions"]] == [history["first"]]
    with_bob = await admin.sessions(participants=history["bob"]["custom_participant_id"])
    assert [s["id"] for s in with_bob["data"]["sessions"]] == [history["first"]]
    longest = await admin.sessions(sort_by="minutesConsumed", sort_order="DESC",
                                   status="ENDED")
    assert longest["data"]["sessions"][0]["id"] == history["first"]
    page = await admin.sessions(per_page=1, page_no=2)
    assert [s["id"] for s in page["data"]["sessions"]] == [history["second"]]
    assert page["paging"] == {"total_count": 3, "start_offset": 1, "end_offset": 1}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await admin.sessions(start_time=future))["data"]["sessions"] == []


async def test_session_details_and_participants(history: dict) -> None:
    admin: AdminClient = history["admin"]
    first = await admin.session(history["first"], include_breakout_rooms="true")
    assert first["status"] == "ENDED" and first["breakout_rooms"] == []
    assert first["max_concurrent_participants"] == 2
    assert first["meeting_display_name"] == "Standup"

    raw = (await admin.session_participants(history["first"]))["participants"]
    assert len(raw) == 3  # Ada, and Bob's two peers
    assert {p["display_name"] for p in raw} == {"Ada", "Bob"}
    consolidated = (await admin.session_participants(history["first"], view="consolidated"))
    people = {p["user_id"]: p for p in consolidated["participants"]}
    bobs = [p for p in raw if p["user_id"] == history["bob"]["id"]]
    assert len(people) == 2
    assert people[history["bob"]["id"]]["duration"] == pytest.approx(
        sum(p["duration"] for p in bobs), abs=1e-3)

    by_duration = (await admin.session_participants(history["first"], sort_by="duration",
                                                    sort_order="DESC"))["participants"]
    assert by_duration[0]["display_name"] == "Ada"
    found = (await admin.session_participants(history["first"], search="bob"))["participants"]
    assert {p["user_id"] for p in found} == {history["bob"]["id"]}

    one = await admin.call("GET", f"/sessions/{history['first']}/participants/"
                                  f"{history['bob_peer']}", params={"include_peer_events": True})
    assert one["participant"]["id"] == history["bob_peer"]
    assert [e["event_name"] for e in one["participant"]["peer_events"]] == [
        "PEER_CREATED", "PEER_JOINING", "PEER_LEAVING"]

    report = await admin.call("GET", f"/sessions/peer-report/{history['bob_peer']}")
    assert report["participant"]["display_name"] == "Bob"
    assert report["participant"]["role"] == "group_call_participant"

    live = await admin.session(history["live"])
    assert live["status"] == "LIVE" and "ended_at" not in live
    assert live["live_participants"] == 1 and live["minutes_consumed"] > 0


async def test_unknown_ids_are_404(history: dict) -> None:
    admin: AdminClient = history["admin"]
    for path in ("/sessions/nope", "/sessions/nope/participants",
                 f"/sessions/{history['first']}/participants/nope",
                 "/sessions/peer-report/nope"):
        with pytest.raises(ApiError) as missing:
            await admin.call("GET", path)
        assert missing.value.status == 404
    for params in ({"sort_by": "name"}, {"status": "OPEN"}, {"view": "everything"}):
        with pytest.raises(ApiError) as bad:
            await admin.call("GET", "/sessions" if "view" not in params
                             else f"/sessions/{history['first']}/participants", params=params)
        assert bad.value.status == 400


async def test_daywise_analytics(history: dict) -> None:
    admin: AdminClient = history["admin"]
    stats = await admin.call("GET", "/analytics/daywise")
    sessions = stats["session_stats"]
    assert sessions["sessions_count"] == 3
    today = datetime.now(UTC).date().isoformat()
    assert [d["day"] for d in sessions["day_stats"]] == [today]
    assert sessions["day_stats"][0]["total_sessions"] == 3
    assert sessions["sessions_minutes_consumed"] == pytest.approx(
        sessions["day_stats"][0]["total_session_minutes"])
    assert sessions["sessions_minutes_consumed"] > 0
    empty = await admin.call("GET", "/analytics/daywise",
                             params={"start_date": "2020-01-01", "end_date": "2020-01-31"})
    assert empty["session_stats"]["sessions_count"] == 0
    with pytest.raises(ApiError) as bad:
        await admin.call("GET", "/analytics/daywise", params={"start_date": "yesterday"})
    assert bad.value.status == 400


async def test_official_sdk_reads_sessions(any_server: SalonServer, history: dict) -> None:
    ids = {"account_id": any_server.account_id, "app_id": any_server.app_id}
    with Cloudflare(api_token=any_server.api_token, base_url=f"{any_server.url}/client/v4",
                    max_retries=0) as cf:
        kit = cf.realtime_kit
        listed = kit.sessions.get_sessions(any_server.app_id, account_id=any_server.account_id)
        assert history["first"] in [s.id for s in listed.data.sessions]
        detail = kit.sessions.get_session_details(history["first"], **ids)
        assert detail.data.status == "ENDED" and detail.data.minutes_consumed > 0
        people = kit.sessions.get_session_participants(history["first"], **ids,
                                                       include_peer_events=True)
        assert {p.display_name for p in people.data.participants} == {"Ada", "Bob"}
        assert people.data.participants[0].peer_events[0].event_name == "PEER_CREATED"
        one = kit.sessions.get_session_participant_details(
            history["bob_peer"], **ids, session_id=history["first"])
        assert one.data.participant.user_id == history["bob"]["id"]
        active = kit.active_session.get_active_session(history["retro"].id, **ids)
        assert active.data.id == history["live"]
        stats = kit.analytics.get_org_analytics(any_server.app_id,
                                                account_id=any_server.account_id)
        assert stats.data.session_stats.sessions_count == 3
        with pytest.raises(cloudflare.NotFoundError):
            kit.active_session.get_active_session(history["standup"].id, **ids)
