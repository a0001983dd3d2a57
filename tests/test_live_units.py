"""RoomHost and peer links at unit level: fake links and sockets, no server."""

import asyncio
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from salon.core.errors import NotFound, ServiceUnavailable
from salon.core.presets import Permissions
from salon.core.room import Outcome, Peer, Record
from salon.live import operator
from salon.live.host import RoomHost
from salon.live.recorder import Recorder
from salon.live.rooms import Rooms
from salon.live.settings import LiveSettings
from salon.services.chat_export import ExportLinks

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

    def watch(self, on_drop: Any) -> None:
        self.on_drop = on_drop


class FakeRecorder:
    """Keeps the records a host hands it."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.drained = False

    def put(self, record: Record) -> None:
        self.records.append(record)

    async def drain(self, grace: float | None = None) -> None:
        self.drained = True


def make_host(**kwargs: Any) -> RoomHost:
    return RoomHost("meeting-1", "Unit", "app-1", 60, FakeRecorder(),  # type: ignore[arg-type]
                    LiveSettings(), **kwargs)


def meeting_row(meeting_id: str = "meeting-1") -> Any:
    return SimpleNamespace(id=meeting_id, title="Unit", app_id="app-1",
                           session_keep_alive_time_in_secs=60)


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


async def test_a_waiting_peer_leaving_alone_releases_the_room() -> None:
    links = ExportLinks.from_secret("secret", "http://unit", 60)
    rooms = Rooms(None, LiveSettings(), links)  # type: ignore[arg-type]  # no database needed
    host = rooms.host_for(meeting_row())  # type: ignore[arg-type]
    host.recorder.task.cancel()  # a real, idle recorder: nothing is recorded for the waiting
    link = FakeLink()
    reply = host.connect(make_peer("w1", {"waiting_room_type": "SKIP_ON_ACCEPT"}), link)
    assert reply["status"] == "waiting" and rooms.hosts == {"meeting-1": host}

    # What the gateway does for `leave`: run it with a reply, then forget the socket.
    replies: list[dict[str, Any]] = []
    host.run(lambda: host.room.leave("w1", NOW), respond=replies.append)
    host.disconnected("w1", link)
    assert replies == [{"left": True}]
    assert link.closed == (1000, "left")
    assert rooms.hosts == {}


async def test_server_shutdown_closes_every_peer_with_service_restart() -> None:
    host = make_host()
    joined, waiting = FakeLink(), FakeLink()
    host.connect(make_peer("p1"), joined)
    host.connect(make_peer("w1", {"waiting_room_type": "SKIP_ON_ACCEPT"}), waiting)

    await host.shut_down("ALL_PARTICIPANTS_LEFT")
    for link in (joined, waiting):
        assert link.sent[-1]["event"] == "room.ended"
        assert link.closed is not None and link.closed[0] == 1012
    assert host.links == {} and host.recorder.drained  # type: ignore[attr-defined]
    assert host.recorder.records[-1].kind == Record.SESSION_ENDED  # type: ignore[attr-defined]


class FakeDatabase:
    @asynccontextmanager
    async def session(self) -> Any:
        yield None


async def test_active_session_checks_the_app_before_waiting_and_answers_503_on_timeout() -> None:
    links = ExportLinks.from_secret("secret", "http://unit", 60)
    gate = asyncio.Event()

    async def stuck(db: Any, app_id: str, record: Record, links: ExportLinks) -> int:
        await gate.wait()  # the database does not answer
        return 0

    recorder = Recorder(FakeDatabase(), "app-1", links, apply=stuck)  # type: ignore[arg-type]
    rooms = Rooms(None, LiveSettings(), links)  # type: ignore[arg-type]
    host = rooms.hosts["meeting-1"] = RoomHost("meeting-1", "Unit", "app-1", 60, recorder,
                                               LiveSettings())
    host.connect(make_peer("p1"), FakeLink())  # the session starts: its records are stuck

    with pytest.raises(NotFound):  # another app's meeting: refused at once, no waiting
        await asyncio.wait_for(operator.live_session_id(rooms, "app-2", "meeting-1"), 0.5)
    with pytest.raises(ServiceUnavailable):
        await operator.live_session_id(rooms, "app-1", "meeting-1", timeout=0.2)
    assert await operator.live_session_id(rooms, "app-1", "elsewhere") is None

    gate.set()
    session_id = await operator.live_session_id(rooms, "app-1", "meeting-1", timeout=1)
    assert session_id == host.room.session_id is not None
    await recorder.drain()
