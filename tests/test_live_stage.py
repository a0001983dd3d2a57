"""The stage (reference §5.2): every transition, who may do what, and what it allows."""

import pytest

from salon.client import RealtimeClient, RealtimeError
from tests.live import Meeting


async def stage_status(peer: RealtimeClient) -> str:
    return (await peer.state())["self"]["stage_status"]


async def test_presenter_goes_on_stage_and_publishes(room: Meeting) -> None:
    presenter = await room.join("webinar_presenter")
    assert presenter.joined["self"]["stage_status"] == "ACCEPTED_TO_JOIN_STAGE"
    assert presenter.joined["self"]["can_publish"] == {"audio": False, "video": False,
                                                      "screenshare": False}
    with pytest.raises(RealtimeError) as off:
        await presenter.set_media(video=True)
    assert off.value.code == "FORBIDDEN"
    assert (await presenter.stage("join"))["stage_status"] == "ON_STAGE"
    me = (await presenter.wait_for("self.updated"))["self"]
    assert me["can_publish"] == {"audio": True, "video": True, "screenshare": True}
    await presenter.set_media(video=True, audio=True)
    await presenter.stage("leave")
    me = (await presenter.state())["self"]
    assert me["stage_status"] == "ACCEPTED_TO_JOIN_STAGE"
    assert me["video"] is False and me["audio"] is False  # leaving the stage stops media


async def test_request_cancel_deny_grant_join_leave(room: Meeting) -> None:
    presenter = await room.join("webinar_presenter")
    viewer = await room.join("webinar_viewer", name="Viewer")
    assert viewer.joined["self"]["stage_status"] == "OFF_STAGE"
    with pytest.raises(RealtimeError):
        await viewer.set_media(audio=True)
    with pytest.raises(RealtimeError) as early:
        await viewer.stage("join")
    assert early.value.code == "FORBIDDEN"

    assert (await viewer.stage("request"))["stage_status"] == "REQUESTED_TO_JOIN_STAGE"
    requests = await presenter.wait_for("stage.requests", lambda d: d["requests"])
    assert [r["peer_id"] for r in requests["requests"]] == [viewer.peer_id]
    listed = await presenter.stage("list_requests")
    assert [r["peer_id"] for r in listed["requests"]] == [viewer.peer_id]
    update = await presenter.wait_for("peer.updated",
                                      lambda d: d["peer"]["peer_id"] == viewer.peer_id)
    assert update["peer"]["stage_status"] == "REQUESTED_TO_JOIN_STAGE"

    await viewer.stage("cancel_request")
    assert await stage_status(viewer) == "OFF_STAGE"
    assert (await presenter.stage("list_requests"))["requests"] == []

    await viewer.stage("request")
    await presenter.stage("deny", [viewer.peer_id])
    await viewer.wait_for("stage.denied")
    assert await stage_status(viewer) == "OFF_STAGE"

    await viewer.stage("request")
    await presenter.stage("grant", [viewer.peer_id])
    await viewer.wait_for("stage.granted")
    assert await stage_status(viewer) == "ACCEPTED_TO_JOIN_STAGE"
    await viewer.stage("join")
    assert await stage_status(viewer) == "ON_STAGE"
    await viewer.set_media(video=True)
    seen = await presenter.wait_for("peer.updated", lambda d: d["peer"]["video"])
    assert seen["peer"]["peer_id"] == viewer.peer_id

    await viewer.stage("leave")
    me = (await viewer.state())["self"]
    assert me["stage_status"] == "OFF_STAGE" and me["video"] is False
    with pytest.raises(RealtimeError):
        await viewer.stage("leave")


async def test_invite_and_kick_from_stage(room: Meeting) -> None:
    presenter = await room.join("webinar_presenter")
    viewer = await room.join("webinar_viewer")
    await presenter.stage("grant", [viewer.peer_id])  # an invitation: no request needed
    await viewer.wait_for("stage.granted")
    await viewer.stage("join")
    await viewer.set_media(audio=True, video=True)
    # Only the peers a request moves are in its reply: one already ON_STAGE is not
    # granted or denied again, one OFF_STAGE is not kicked.
    assert await presenter.stage("grant", [viewer.peer_id]) == {"granted": []}
    assert await presenter.stage("deny", [viewer.peer_id]) == {"denied": []}
    assert await stage_status(viewer) == "ON_STAGE"
    assert await presenter.stage("kick", [viewer.peer_id]) == {"kicked": [viewer.peer_id]}
    await viewer.wait_for("stage.kicked")
    assert await presenter.stage("kick", [viewer.peer_id]) == {"kicked": []}
    me = (await viewer.state())["self"]
    assert me["stage_status"] == "OFF_STAGE"
    assert me["audio"] is False and me["video"] is False
    assert me["can_publish"]["video"] is False
    with pytest.raises(RealtimeError):
        await viewer.set_media(video=True)


async def test_stage_denials(room: Meeting) -> None:
    await room.admin.create_preset(f"view_only_{room.id[:8]}", config={"view_type": "WEBINAR"},
                                   permissions={"stage_enabled": True,
                                                "stage_access": "NOT_ALLOWED",
                                                "media": {"audio": {"can_produce": "NOT_ALLOWED"},
                                                          "video": {"can_produce": "NOT_ALLOWED"},
                                                          "screenshare": {
                                                              "can_produce": "NOT_ALLOWED"}}})
    presenter = await room.join("webinar_presenter")
    viewer = await room.join("webinar_viewer")
    other = await room.join("webinar_viewer")
    view_only = await room.join(f"view_only_{room.id[:8]}")
    group = await room.join("group_call_participant")
    await other.stage("request")
    for action, targets in (("grant", [other.peer_id]), ("deny", [other.peer_id]),
                            ("kick", [presenter.peer_id]), ("list_requests", None)):
        with pytest.raises(RealtimeError) as denied:
            await viewer.stage(action, targets)
        assert denied.value.code == "FORBIDDEN"
    assert await stage_status(other) == "REQUESTED_TO_JOIN_STAGE"
    with pytest.raises(RealtimeError) as cannot_ask:
        await view_only.stage("request")
    assert cannot_ask.value.code == "FORBIDDEN"
    with pytest.raises(RealtimeError) as no_stage:
        await group.stage("request")
    assert no_stage.value.code == "INVALID"
    with pytest.raises(RealtimeError) as not_stage_peer:
        await presenter.stage("grant", [group.peer_id])
    assert not_stage_peer.value.code == "INVALID"
    # Invited by a host, even a view-only viewer may come up; its media rule still holds.
    await presenter.stage("grant", [view_only.peer_id])
    await view_only.stage("join")
    with pytest.raises(RealtimeError):
        await view_only.set_media(video=True)


async def test_group_call_peers_publish_without_a_stage(room: Meeting) -> None:
    peer = await room.join("group_call_participant")
    assert peer.joined["self"]["stage_status"] == "ON_STAGE"
    assert peer.joined["self"]["can_publish"] == {"audio": True, "video": True,
                                                 "screenshare": True}
    await peer.set_media(screenshare=True)
