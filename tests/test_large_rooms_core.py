"""Large rooms in the room alone (core/room/audience.py): no server, no clock."""

from datetime import UTC, datetime, timedelta
from typing import Any

from salon.core.presets import Permissions
from salon.core.room import Peer, Room, audience, stage

NOW = datetime(2026, 1, 1, tzinfo=UTC)
VIEWER = {"stage_enabled": True, "stage_access": "CAN_REQUEST", "waiting_room_type": "SKIP"}
HOST = {"stage_enabled": True, "stage_access": "ALLOWED", "waiting_room_type": "SKIP",
        "accept_stage_requests": True, "kick_participant": True}


def _peer(peer_id: str, permissions: dict[str, Any]) -> Peer:
    return Peer(peer_id=peer_id, participant_id=f"p-{peer_id}", custom_participant_id=peer_id,
                name=peer_id, picture=None, preset_name="unit", view_type="WEBINAR",
                permissions=Permissions.model_validate(permissions))


def _room(threshold: int = 4) -> Room:
    room = Room("m", "webinar")
    room.large_threshold = threshold
    return room


def _events(outcome: Any, name: str) -> list[Any]:
    return [e for e in outcome.events if e.event == name]


def test_past_the_threshold_audience_joins_reach_only_hosts_and_the_stage() -> None:
    room = _room()
    room.connect(_peer("host", HOST), NOW)
    for i in range(2):  # 3 joined: below the threshold
        out = room.connect(_peer(f"v{i}", VIEWER), NOW + timedelta(seconds=i))
        assert {e.to for e in _events(out, "peer.joined")} == {
            frozenset({"host", *(f"v{j}" for j in range(i))})}
    assert not room.is_large
    out = room.connect(_peer("late", VIEWER), NOW + timedelta(seconds=9))  # the 4th
    assert room.is_large
    [joined] = _events(out, "peer.joined")
    assert joined.to == {"host"}
    state = out.reply["room"]
    assert state["large"] and state["counts"] == {"participants": 4, "on_stage": 0,
                                                  "audience": 3}
    assert room.audience.pending and room.audience.joined.keys() == {"late"}
    delta = _events(audience.flush(room), "audience.delta")
    assert [e.data["joined"][0]["peer_id"] for e in delta] == ["late"]
    assert delta[0].to == {"v0", "v1", "late"}
    assert not room.audience.pending and audience.flush(room).events == []


def test_counts_follow_the_stage_and_leaves_and_match_a_recount() -> None:
    room = _room()
    room.connect(_peer("host", HOST), NOW)
    for i in range(6):
        room.connect(_peer(f"v{i}", VIEWER), NOW)
    stage.grant(room, "host", ["v1"])
    stage.join(room, "v1")
    room.leave("v2", NOW)
    expected = audience.count_all(room.joined)
    assert room.counts() == expected == {"participants": 6, "on_stage": 1, "audience": 4}
    # A peer on the stage is followed by everyone; one leaving it is announced to all.
    out = stage.leave(room, "v1")
    [update] = _events(out, "peer.updated")
    assert update.to == {"host", "v0", "v3", "v4", "v5"}
    assert room.counts() == audience.count_all(room.joined)


def test_a_page_is_in_joining_order_and_a_cursor_survives_leaves() -> None:
    room = _room()
    room.connect(_peer("host", HOST), NOW)
    for i in range(9):
        room.connect(_peer(f"v{i}", VIEWER), NOW)
    viewer = room.peers["v0"]
    first = audience.page(room, viewer, limit=4)
    assert [p["peer_id"] for p in first["peers"]] == ["host", "v0", "v1", "v2"]
    room.leave("v2", NOW)
    room.leave("v3", NOW)
    rest = audience.page(room, viewer, cursor=first["next_cursor"], limit=100)
    assert [p["peer_id"] for p in rest["peers"]] == ["v4", "v5", "v6", "v7", "v8"]
    assert rest["next_cursor"] is None
