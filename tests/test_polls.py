"""Polls (reference §6.2) with real clients: create, vote, views per viewer, denials, limits,
REST AS6 (also through the official SDK), persistence, and 50 peers voting at once."""

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cloudflare
import pytest
from cloudflare import Cloudflare
from sqlalchemy import select

from salon.client import ApiError, RealtimeClient, RealtimeError
from salon.core.default_presets import default_presets
from salon.core.room import Peer, Room, RoomError
from salon.core.room import polls as room_polls
from salon.settings import Settings
from salon.store.database import Database
from salon.store.models import Poll, PollVote
from tests.live import Meeting, eventually
from tests.servers import SalonServer

QUESTION = "Where shall we meet?"
OPTIONS = ["Lisbon", "Porto", "Faro"]


async def _preset(room: Meeting, tag: str, polls: dict[str, bool]) -> str:
    name = f"{tag}_{room.id[:8]}"
    await room.admin.create_preset(name, config={"view_type": "GROUP_CALL"},
                                   permissions={"polls": polls})
    return name


async def _participant_id(peer: RealtimeClient) -> str:
    return (await peer.state())["self"]["participant_id"]


async def _rows(server: SalonServer, poll_id: str) -> tuple[Poll | None, list[PollVote]]:
    database = Database(Settings(data_dir=Path(server.data_dir),
                                 database_url=server.database_url))
    try:
        async with database.session() as db:
            poll = await db.get(Poll, poll_id)
            votes = list(await db.scalars(select(PollVote).where(PollVote.poll_id == poll_id)))
            return poll, votes
    finally:
        await database.dispose()


# --- the basics -----------------------------------------------------------------------------


async def test_create_vote_and_list(room: Meeting, live_server: SalonServer) -> None:
    host = await room.join("group_call_host", name="Hana")
    guest_p = await room.participant(name="Gus")
    guest = await room.connect(guest_p["token"])
    guest_tab = await room.connect(guest_p["token"])  # the same participant, a second peer

    created = (await host.create_poll(f"  {QUESTION} ", OPTIONS))["poll"]
    assert created["question"] == QUESTION  # trimmed
    assert [o["text"] for o in created["options"]] == OPTIONS
    assert all(o["count"] == 0 and o["votes"] == [] for o in created["options"])
    assert created["created_by"] == "Hana" and created["voted"] == []
    assert created["created_by_user_id"] == await _participant_id(host)
    assert created["anonymous"] is False and created["hide_votes"] is False
    assert created["results_hidden"] is False and created["has_voted"] is False
    for peer in (guest, guest_tab):
        assert (await peer.wait_for("poll.created"))["poll"] == created
    assert host.drain("poll.created") == []  # the creator has its reply

    # 1.0 is an integer, as JSON Schema says
    voted = (await guest.request("poll.vote", poll_id=created["id"], index=1.0))["poll"]
    assert voted["has_voted"] is True and voted["voted"] == [guest_p["id"]]
    assert [o["count"] for o in voted["options"]] == [0, 1, 0]
    assert voted["options"][1]["votes"] == [{"id": guest_p["id"], "name": "Gus"}]
    delta = await host.wait_for("poll.voted")
    assert delta == {"poll_id": created["id"], "voters": 1, "counts": [0, 1, 0],
                     "voted_id": guest_p["id"],
                     "vote": {"index": 1, "id": guest_p["id"], "name": "Gus"}}
    # The other peer of the voter gets its whole new view, not the delta.
    assert (await guest_tab.wait_for("poll.updated"))["poll"] == voted
    assert guest_tab.drain("poll.voted") == []

    with pytest.raises(RealtimeError) as again:
        await guest_tab.vote(created["id"], 2)  # one vote per participant, any peer
    assert again.value.code == "CONFLICT"
    for peer in (host, guest, guest_tab):
        [listed] = await peer.polls()
        assert [o["count"] for o in listed["options"]] == [0, 1, 0]
    assert (await host.polls())[0]["has_voted"] is False

    poll, votes = await eventually(lambda: _persisted(live_server, created["id"], 1))
    assert poll.question == QUESTION and poll.options == OPTIONS
    assert poll.created_by == "Hana" and poll.session_id == host.joined["room"]["session_id"]
    assert [(v.participant_id, v.option_index, v.display_name) for v in votes] == [
        (guest_p["id"], 1, "Gus")]


async def _persisted(server: SalonServer, poll_id: str, count: int) -> Any:
    poll, votes = await _rows(server, poll_id)
    return (poll, votes) if poll is not None and len(votes) == count else None


async def test_anonymous_poll_counts_without_names(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guests = [await room.join() for _ in range(3)]
    poll = (await host.create_poll("Coffee?", ["yes", "no"], anonymous=True))["poll"]
    for index, guest in zip([0, 0, 1], guests, strict=True):
        await guest.wait_for("poll.created")
        mine = (await guest.vote(poll["id"], index))["poll"]
        assert mine["voted"] == [] and mine["has_voted"] is True
        assert all(o["votes"] == [] for o in mine["options"])
    deltas = [await host.wait_for("poll.voted") for _ in guests]
    assert [d["counts"] for d in deltas] == [[1, 0], [2, 0], [2, 1]]
    assert all(d["voted_id"] is None and d["vote"] is None for d in deltas)
    [listed] = await host.polls()
    assert [o["count"] for o in listed["options"]] == [2, 1]
    assert listed["voted"] == [] and listed["voters"] == 3
    assert all(o["votes"] == [] for o in listed["options"])


async def test_hide_votes_until_the_viewer_voted(room: Meeting) -> None:
    host = await room.join("group_call_host")
    first = await room.join(name="First")
    second = await room.join(name="Second")
    poll = (await host.create_poll("Pizza or pasta?", ["pizza", "pasta"],
                                   hide_votes=True))["poll"]
    assert poll["results_hidden"] is False  # the creator always sees the results
    for peer in (first, second):
        seen = (await peer.wait_for("poll.created"))["poll"]
        assert seen["results_hidden"] is True and seen["hide_votes"] is True
        assert [o["count"] for o in seen["options"]] == [None, None]

    mine = (await first.vote(poll["id"], 0))["poll"]
    assert mine["results_hidden"] is False and [o["count"] for o in mine["options"]] == [1, 0]
    hidden = await second.wait_for("poll.voted")  # told someone voted, not for what
    assert hidden["counts"] is None and hidden["vote"] is None and hidden["voters"] == 1
    first_id = await _participant_id(first)
    assert hidden["voted_id"] == first_id
    shown = await host.wait_for("poll.voted")
    assert shown["counts"] == [1, 0] and shown["vote"]["id"] == first_id
    [listed] = await second.polls()
    assert listed["results_hidden"] is True
    assert all(o["count"] is None and o["votes"] == [] for o in listed["options"])

    await second.vote(poll["id"], 1)
    revealed = await first.wait_for("poll.voted")  # a voter now sees everything
    assert revealed["counts"] == [1, 1] and revealed["vote"]["name"] == "Second"
    [listed] = await second.polls()
    assert listed["results_hidden"] is False
    assert [o["count"] for o in listed["options"]] == [1, 1]


async def test_a_peer_that_may_not_view_polls_sees_nothing(room: Meeting) -> None:
    blind = await _preset(room, "blind", {"can_view": False})
    host = await room.join("group_call_host")
    viewer = await room.join()
    outsider = await room.join(blind)
    poll = (await host.create_poll(QUESTION, OPTIONS))["poll"]
    await viewer.wait_for("poll.created")
    with pytest.raises(RealtimeError) as denied:
        await outsider.polls()
    assert denied.value.code == "FORBIDDEN" and "polls.can_view" in denied.value.message
    # It may still vote (can_vote is separate), and learns nothing back.
    assert await outsider.vote(poll["id"], 2) == {"poll_id": poll["id"], "index": 2}
    await viewer.vote(poll["id"], 0)
    await host.wait_for("poll.voted", lambda d: d["voters"] == 2)
    await asyncio.sleep(0.2)
    assert [name for name, _ in outsider.events if name.startswith("poll.")] == []

    # Taking can_view away live stops the events too.
    await host.update_permissions([viewer.peer_id], {"polls": {"can_view": False}})
    await viewer.wait_for("permissions.updated")
    await host.create_poll("Again?", ["yes", "no"])
    await asyncio.sleep(0.2)
    assert viewer.drain("poll.created") == []


async def test_hidden_participants_vote_without_their_name(room: Meeting) -> None:
    observer = f"observer_{room.id[:8]}"
    await room.admin.create_preset(observer, permissions={"hidden_participant": True})
    host = await room.join("group_call_host")
    hidden = await room.join(observer)
    poll = (await host.create_poll(QUESTION, OPTIONS))["poll"]
    mine = (await hidden.vote(poll["id"], 2))["poll"]
    assert mine["has_voted"] is True and mine["voted"] == []
    delta = await host.wait_for("poll.voted")
    assert delta["counts"] == [0, 0, 1] and delta["voted_id"] is None and delta["vote"] is None
    [listed] = await host.polls()
    assert listed["voters"] == 1 and listed["voted"] == [] and listed["options"][2]["votes"] == []


# --- denials and limits ---------------------------------------------------------------------


async def test_denials_leave_the_polls_unchanged(room: Meeting) -> None:
    no_vote = await _preset(room, "novote", {"can_vote": False})
    host = await room.join("group_call_host")
    guest = await room.join()  # group_call_participant: polls.can_create is false
    mute = await room.join(no_vote)
    poll = (await host.create_poll(QUESTION, OPTIONS))["poll"]

    with pytest.raises(RealtimeError) as denied:
        await guest.create_poll("Mine?", ["a", "b"])
    assert denied.value.code == "FORBIDDEN" and "polls.can_create" in denied.value.message
    with pytest.raises(RealtimeError) as denied:
        await mute.vote(poll["id"], 0)
    assert denied.value.code == "FORBIDDEN" and "polls.can_vote" in denied.value.message

    bad_creates: list[dict[str, Any]] = [
        {"question": "", "options": ["a", "b"]},
        {"question": "   ", "options": ["a", "b"]},
        {"question": "q" * 501, "options": ["a", "b"]},
        {"question": "one?", "options": ["a"]},
        {"question": "many?", "options": [str(i) for i in range(11)]},
        {"question": "blank?", "options": ["a", " "]},
        {"question": "long?", "options": ["a", "b" * 201]},
        {"question": "twice?", "options": ["same", "same "]},
        {"question": "types?", "options": ["a", 2]},
        {"question": "flag?", "options": ["a", "b"], "anonymous": "yes"},
        {"question": "extra?", "options": ["a", "b"], "closes_at": 5},
        {"options": ["a", "b"]},
    ]
    for data in bad_creates:
        with pytest.raises(RealtimeError) as bad:
            await host.request("poll.create", **data)
        assert bad.value.code == "INVALID", data
    for data, code in [({"poll_id": poll["id"], "index": 3}, "INVALID"),
                       ({"poll_id": poll["id"], "index": -1}, "INVALID"),
                       ({"poll_id": poll["id"], "index": "1"}, "INVALID"),
                       ({"poll_id": poll["id"], "index": True}, "INVALID"),
                       ({"poll_id": poll["id"], "index": 1.5}, "INVALID"),
                       ({"poll_id": poll["id"]}, "INVALID"),
                       ({"poll_id": "no-such-poll", "index": 0}, "NOT_FOUND")]:
        with pytest.raises(RealtimeError) as bad:
            await guest.request("poll.vote", **data)
        assert bad.value.code == code, data

    [listed] = await host.polls()
    assert listed["id"] == poll["id"] and listed["voters"] == 0
    assert [o["count"] for o in listed["options"]] == [0, 0, 0]
    await asyncio.sleep(0.1)
    assert guest.drain("poll.voted") == [] and len(guest.drain("poll.created")) == 1


async def test_concurrent_votes_of_one_participant_count_once(room: Meeting) -> None:
    host = await room.join("group_call_host")
    voter = await room.participant()
    tabs = [await room.connect(voter["token"]) for _ in range(4)]
    poll = (await host.create_poll(QUESTION, OPTIONS))["poll"]
    results = await asyncio.gather(*(tab.vote(poll["id"], i % 3) for i, tab in enumerate(tabs)),
                                   return_exceptions=True)
    refused = [r for r in results if isinstance(r, RealtimeError)]
    assert len(refused) == 3 and all(r.code == "CONFLICT" for r in refused)
    [listed] = await host.polls()
    assert listed["voters"] == 1 and sum(o["count"] for o in listed["options"]) == 1


async def test_poll_creation_is_rate_limited(room: Meeting) -> None:
    host = await room.join("group_call_host")
    results = await asyncio.gather(*(host.create_poll(f"Poll {i}?", ["a", "b"])
                                     for i in range(14)), return_exceptions=True)
    limited = [r for r in results if isinstance(r, RealtimeError)]
    assert limited and all(r.code == "RATE_LIMITED" for r in limited)
    assert len(results) - len(limited) <= 11
    assert len(await host.polls()) == len(results) - len(limited)


def _peer(number: int, preset: str = "group_call_host") -> Peer:
    body = next(p for p in default_presets() if p.name == preset)
    return Peer(peer_id=f"peer-{number}", participant_id=f"participant-{number}",
                custom_participant_id=f"user-{number}", name=f"Person {number}", picture=None,
                preset_name=preset, view_type="GROUP_CALL", permissions=body.permissions)


def test_a_session_holds_at_most_max_polls_and_a_new_session_starts_empty() -> None:
    room, now = Room("meeting", "title"), datetime.now(UTC)
    host = _peer(1)
    room.connect(host, now)
    for i in range(room_polls.MAX_POLLS):
        room_polls.create(room, host.peer_id, f"Q{i}", ["a", "b"], anonymous=False,
                          hide_votes=False, now=now)
    with pytest.raises(RoomError) as full:
        room_polls.create(room, None, "One more?", ["a", "b"], anonymous=False,
                          hide_votes=False, now=now)
    assert full.value.code == "CONFLICT"
    assert len(room.polls.polls) == room_polls.MAX_POLLS

    room.leave(host.peer_id, now)
    room.expire(now)
    room.connect(_peer(2), now)
    assert room.polls.polls == {}


def test_events_go_once_per_view_group() -> None:
    """Same bytes for everyone sharing a view: at most three groups per poll."""
    room, now = Room("meeting", "title"), datetime.now(UTC)
    host = _peer(0)
    guests = [_peer(i, "group_call_participant") for i in range(1, 7)]
    for peer in (host, *guests):
        room.connect(peer, now)
    created = room_polls.create(room, None, "Q?", ["a", "b"], anonymous=False,
                                hide_votes=True, now=now)
    assert len(created.events) == 1  # nobody voted: one hidden view for all
    assert created.events[0].to == {p.peer_id for p in (host, *guests)}
    room_polls.vote(room, guests[0].peer_id, created.reply["poll"]["id"], 0, now)
    out = room_polls.vote(room, guests[1].peer_id, created.reply["poll"]["id"], 1, now)
    voted = [e for e in out.events if e.event == "poll.voted"]
    groups = {e.to: e.data["counts"] for e in voted}
    assert groups == {frozenset({guests[0].peer_id}): [1, 1],
                      frozenset({host.peer_id, *(g.peer_id for g in guests[2:])}): None}


# --- REST AS6 -------------------------------------------------------------------------------


async def test_rest_create_poll(room: Meeting, live_server: SalonServer) -> None:
    with pytest.raises(ApiError) as none:
        await room.admin.create_poll(room.id, QUESTION, OPTIONS)
    assert none.value.status == 404

    guest = await room.join()
    response = await room.admin.http.post(f"/meetings/{room.id}/active-session/poll",
                                          json={"question": QUESTION, "options": OPTIONS,
                                                "hide_votes": True})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["data"]["action"] == "poll"
    poll = body["data"]["poll"]
    assert poll["question"] == QUESTION and poll["hide_votes"] is True
    assert poll["created_by_user_id"] is None and poll["created_by"]  # the app's name
    assert [o["count"] for o in poll["options"]] == [0, 0, 0]  # the operator sees all
    seen = (await guest.wait_for("poll.created"))["poll"]
    assert seen["id"] == poll["id"] and seen["results_hidden"] is True
    await guest.vote(poll["id"], 0)

    for body_json in ({"question": QUESTION, "options": ["only one"]},
                      {"question": "", "options": OPTIONS},
                      {"question": QUESTION, "options": OPTIONS, "anonymous": "no"},
                      {"question": QUESTION},
                      {"question": QUESTION, "options": OPTIONS, "extra": 1}):
        with pytest.raises(ApiError) as bad:
            await room.admin.call("POST", f"/meetings/{room.id}/active-session/poll",
                                  json=body_json)
        assert bad.value.status == 400, body_json
    with pytest.raises(ApiError) as unknown:
        await room.admin.create_poll("no-such-meeting", QUESTION, OPTIONS)
    assert unknown.value.status == 404
    assert len(await guest.polls()) == 1


async def test_official_sdk_creates_a_poll(room: Meeting, live_server: SalonServer) -> None:
    ids = {"account_id": live_server.account_id, "app_id": live_server.app_id}
    with Cloudflare(api_token=live_server.api_token, base_url=f"{live_server.url}/client/v4",
                    max_retries=0) as cf:
        with pytest.raises(cloudflare.NotFoundError):
            await asyncio.to_thread(cf.realtime_kit.active_session.create_poll, room.id,
                                    **ids, question=QUESTION, options=OPTIONS)
        guest = await room.join()
        created = await asyncio.to_thread(
            cf.realtime_kit.active_session.create_poll, room.id, **ids, question=QUESTION,
            options=OPTIONS, anonymous=True, hide_votes=False)
        assert created.success and created.data.action == "poll"
        poll = created.data.poll
        assert poll.question == QUESTION and [o.text for o in poll.options] == OPTIONS
        assert [o.count for o in poll.options] == [0, 0, 0]
        assert poll.anonymous is True and poll.hide_votes is False and poll.voted == []
        assert (await guest.wait_for("poll.created"))["poll"]["id"] == poll.id
        with pytest.raises(cloudflare.BadRequestError):
            await asyncio.to_thread(cf.realtime_kit.active_session.create_poll, room.id,
                                    **ids, question=QUESTION, options=[])


# --- many voters ----------------------------------------------------------------------------


async def test_fifty_peers_voting_at_once_are_counted_exactly(
        room: Meeting, live_server: SalonServer) -> None:
    host = await room.join("group_call_host")
    voters = await asyncio.gather(*(room.join() for _ in range(50)))
    poll = (await host.create_poll("Best day?", ["Mon", "Tue", "Wed", "Thu"]))["poll"]
    await asyncio.gather(*(v.wait_for("poll.created") for v in voters))

    choices = [i % 4 if i % 5 else 0 for i in range(50)]
    replies = await asyncio.gather(*(v.vote(poll["id"], c)
                                     for v, c in zip(voters, choices, strict=True)))
    expected = [choices.count(i) for i in range(4)]
    assert sum(expected) == 50
    # Each reply saw its own vote in a consistent tally: every total from 1 to 50, once.
    assert sorted(r["poll"]["voters"] for r in replies) == list(range(1, 51))

    # The creator got every vote, in order, ending in the exact tally.
    deltas = [await host.wait_for("poll.voted") for _ in range(50)]
    assert [d["voters"] for d in deltas] == list(range(1, 51))
    assert deltas[-1]["counts"] == expected
    # Every voter saw the 49 other votes, and every viewer lists the same exact tally.
    everyone = {v.joined["self"]["participant_id"] for v in voters}
    for voter in voters:
        others = [await voter.wait_for("poll.voted") for _ in range(49)]
        assert {d["voted_id"] for d in others} == everyone - {voter.joined["self"]["participant_id"]}
        assert all(sum(d["counts"]) == d["voters"] for d in others)
    listings = await asyncio.gather(*(peer.polls() for peer in (host, *voters)))
    for [listed] in listings:
        assert [o["count"] for o in listed["options"]] == expected
        assert len(listed["voted"]) == 50 and listed["voters"] == 50
        assert sum(len(o["votes"]) for o in listed["options"]) == 50

    _, votes = await eventually(lambda: _persisted(live_server, poll["id"], 50), timeout=15)
    assert Counter(v.option_index for v in votes) == Counter(choices)
    assert len({v.participant_id for v in votes}) == 50
