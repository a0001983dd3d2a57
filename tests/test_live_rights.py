"""Who may act in a live session as rights change under it: visibility fixed at join,
deleted participants losing their peers, refreshed tokens keeping them."""


import pytest

from salon.client import RealtimeError
from tests.live import Meeting


async def test_hidden_participant_cannot_change_during_a_session(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    watcher = await room.join()
    for hidden in (True, False):
        with pytest.raises(RealtimeError) as refused:
            await host.update_permissions([guest.peer_id], {"hidden_participant": hidden})
        assert refused.value.code == "INVALID"
        assert "hidden_participant" in refused.value.message
    assert (await guest.state())["self"]["hidden"] is False

    # Nobody was left with a ghost: the guest is still seen, and seen to leave.
    await guest.leave()
    left = await watcher.wait_for("peer.left", lambda d: d["peer_id"] == guest.peer_id)
    assert left["reason"] == "left"
    assert guest.peer_id not in {p["peer_id"] for p in (await host.state())["room"]["peers"]}
