"""RealtimeClient.listen: handlers for events as they arrive, starting with the ones
already queued. A recorder or transcriber listens only after its join returns, and the
events the server sent right after the join reply may be queued by then; none may be
lost (a camera announced then would never be shown)."""

from typing import Any

from tests.live import Meeting, eventually


async def test_listen_hands_over_queued_events_in_order_then_live_ones(room: Meeting) -> None:
    watcher = await room.join(name="Watcher")
    bob = await room.join(name="Bob")
    carol = await room.join(name="Carol")
    await eventually(lambda: sum(name == "peer.joined" for name, _ in watcher.events) == 2)
    await carol.request("chat.send", type="text", text="hello")
    await eventually(lambda: any(name == "chat.message" for name, _ in watcher.events))

    seen: list[tuple[str, Any]] = []
    watcher.listen({"peer.joined": lambda data: seen.append(("joined", data["peer"]["name"])),
                    "peer.left": lambda data: seen.append(("left", data["peer_id"]))})
    assert seen == [("joined", "Bob"), ("joined", "Carol")]  # the queued ones, in order
    assert not [name for name, _ in watcher.events if name == "peer.joined"]
    # other events stay queued for wait_for
    assert (await watcher.wait_for("chat.message", timeout=1))["message"]["id"]

    await bob.leave()
    await eventually(lambda: len(seen) == 3)
    assert seen[2] == ("left", bob.peer_id)
    assert not [name for name, _ in watcher.events if name == "peer.left"]  # handled live
