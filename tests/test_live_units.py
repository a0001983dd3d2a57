"""RoomHost and peer links at unit level: fake links and sockets, no server."""

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from salon.core.presets import Permissions
from salon.core.room import Outcome, Peer
from salon.live.host import RoomHost
from salon.live.settings import LiveSettings

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeLink:
    """A PeerLink that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None

    def send(self, text: str) -> None:
        self.sent.append(orjson.loads(text))

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class NoDatabase:
    """The recorder's database, for hosts whose records must never reach it."""

    def session(self) -> Any:
        raise AssertionError("nothing should be persisted")


def make_host(**kwargs: Any) -> RoomHost:
    return RoomHost("meeting-1", "Unit", "app-1", 60, NoDatabase(),  # type: ignore[arg-type]
                    LiveSettings(), **kwargs)


def make_peer(peer_id: str, permissions: dict[str, Any] | None = None) -> Peer:
    return Peer(peer_id=peer_id, participant_id=f"participant-{peer_id}",
                custom_participant_id=f"custom-{peer_id}", name=peer_id, picture=None,
                preset_name="unit", view_type="GROUP_CALL",
                permissions=Permissions.model_validate(permissions or {}))


async def test_an_event_that_cannot_be_serialized_is_refused_before_anything_is_sent() -> None:
    host = make_host()
    link = FakeLink()
    host.links["p1"] = link
    replies: list[dict[str, Any]] = []
    outcome = Outcome(reply={"ok": True})
    outcome.send("fine", {"n": 1}, {"p1"})
    outcome.send("broken", {"not json": {1, 2}}, {"p1"})  # a set: orjson refuses it
    outcome.close("p1", 4003, "bye")

    with pytest.raises(TypeError):
        host.run(lambda: outcome, respond=replies.append)
    assert replies == [] and link.sent == [] and link.closed is None
    assert host.links == {"p1": link}
