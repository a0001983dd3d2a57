"""A room this node hands over while its session goes on (docs/cluster.md "Failover"):
its transcriber stops without reporting a capture (no transcript here), no transcriber
starts here again for it, and the watch for returning captioned peers of an adopted
session ends with the hand-over."""

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from salon.live import transcribers
from salon.live.transcribers import LiveTranscribers, TranscriberSettings
from salon.recording.spec import RecordingOutcome
from salon.transcription.spec import TranscriberSpec


class FakeRooms:
    def __init__(self) -> None:
        self.session_listeners: list[Any] = []
        self.adoption_listeners: list[Any] = []
        self.hosts: dict[str, Any] = {}
        self.database = None

    def get(self, meeting_id: str) -> Any:
        return self.hosts.get(meeting_id)


def _host(rooms: FakeRooms, captioned: bool = True) -> Any:
    peer = SimpleNamespace(permissions=SimpleNamespace(transcription_enabled=captioned))
    host = SimpleNamespace(
        meeting_id="m1", app_id="a1", handed_over=False,
        room=SimpleNamespace(session_id="s1", peers={"p1": peer}),
        expected={"p2": object()}, settings=SimpleNamespace(resume_grace_secs=15.0))
    rooms.hosts["m1"] = host
    return host


def _hand_over(rooms: FakeRooms, host: Any) -> None:
    """What `Rooms.hand_over` does to the host, as far as the transcriber can tell."""
    del rooms.hosts[host.meeting_id]
    host.handed_over = True


def _transcribers(rooms: FakeRooms, tmp_path: Path, captured: list) -> LiveTranscribers:
    async def on_captured(*args: Any) -> None:
        captured.append(args)
    return LiveTranscribers(rooms, TranscriberSettings(data_dir=tmp_path, gateway_url="ws://x"),
                            signer=None, on_captured=on_captured)  # type: ignore[arg-type]


class FakeHandle:
    """A transcriber process whose peer is closed with 4013: it ends without error."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.control = SimpleNamespace(stop=lambda reason: None)

    def poll(self) -> RecordingOutcome | None:
        if self.host.handed_over:
            return RecordingOutcome(stop_reason="ALL_PEERS_LEFT")
        return None

    def kill(self) -> None:
        pass


async def test_a_handed_over_room_s_transcriber_reports_no_capture(
        tmp_path: Path, monkeypatch: Any) -> None:
    rooms, captured = FakeRooms(), []
    host = _host(rooms)
    live = _transcribers(rooms, tmp_path, captured)

    async def spec(*args: Any) -> Any:
        return SimpleNamespace(capture_dir=tmp_path / "capture")
    monkeypatch.setattr(live, "_spec", spec)
    monkeypatch.setattr(transcribers.RecorderProcess, "start",
                        staticmethod(lambda spec, engine: FakeHandle(host)))
    live._ensure(host, "s1", for_captions=True)
    task = live.running["s1"]
    await asyncio.sleep(0.05)
    _hand_over(rooms, host)
    await asyncio.wait_for(task, 5)
    assert captured == []  # the node that ends the session makes the transcript


async def test_no_transcriber_starts_for_a_handed_over_room(tmp_path: Path) -> None:
    rooms, captured = FakeRooms(), []
    host = _host(rooms)
    live = _transcribers(rooms, tmp_path, captured)
    _hand_over(rooms, host)
    live._ensure(host, "s1", for_captions=True)
    assert live.running == {}


async def test_the_watch_for_returning_peers_ends_with_a_hand_over(
        tmp_path: Path, monkeypatch: Any) -> None:
    rooms, captured = FakeRooms(), []
    host = _host(rooms, captioned=False)
    live = _transcribers(rooms, tmp_path, captured)
    monkeypatch.setattr(transcribers, "TICK_SECS", 0.01)
    watch = asyncio.create_task(live._watch_returns(host, "s1"))
    await asyncio.sleep(0.05)
    assert not watch.done()  # peers are still expected back
    _hand_over(rooms, host)  # `expected` left as it was
    await asyncio.wait_for(watch, 1)


async def test_the_watch_for_returning_peers_ends_with_the_resume_window(
        tmp_path: Path, monkeypatch: Any) -> None:
    rooms, captured = FakeRooms(), []
    host = _host(rooms, captioned=False)
    host.settings.resume_grace_secs = 0.05
    live = _transcribers(rooms, tmp_path, captured)
    monkeypatch.setattr(transcribers, "TICK_SECS", 0.01)
    await asyncio.wait_for(live._watch_returns(host, "s1"), 1)


async def test_a_handed_over_host_expects_nobody_back_and_records_no_one_gone() -> None:
    """The peers an adopted session expected back are the next node's to expect: a hand
    over within the resume window forgets them (and records none of them as gone)."""
    from salon.core.clock import utcnow
    from salon.live.failover import Orphan, Stay
    from salon.live.host import RoomHost
    from salon.live.settings import LiveSettings

    put: list = []
    recorder = SimpleNamespace(put=put.append)
    host = RoomHost("m1", "t", "a1", 60, recorder, LiveSettings(resume_grace_secs=0.05))  # type: ignore[arg-type]
    now = utcnow()
    stay = Stay("p1", "u1", "", "Ada", now)
    host.adopt(Orphan("s1", now, now, 1, {"p1": stay}))
    assert host.expected
    host.hand_over()
    assert host.expected == {}
    await asyncio.sleep(0.1)  # the resume window would be over
    assert not [record for record in put if record.kind == "peer_left"]


class FailingHandle(FakeHandle):
    """A transcriber process that fails at once (it cannot join, say)."""

    def poll(self) -> RecordingOutcome | None:
        return RecordingOutcome(stop_reason="INTERNAL_ERROR", error="RuntimeError: no")


async def test_a_capture_whose_transcribers_all_failed_is_reported_when_the_session_ends(
        tmp_path: Path, monkeypatch: Any) -> None:
    """Every start failed while the session goes on: its capture is not turned into a
    transcript mid-session (a later one would replace it), but once the session ends."""
    rooms, captured = FakeRooms(), []
    host = _host(rooms)
    live = _transcribers(rooms, tmp_path, captured)
    starts: list[Any] = []
    spec = TranscriberSpec(recording_id="t", session_id="s1", gateway_url="ws://x",
                           token="t", capture_dir=tmp_path / "capture")

    async def specs(*args: Any) -> Any:
        return spec
    monkeypatch.setattr(live, "_spec", specs)
    monkeypatch.setattr(transcribers.RecorderProcess, "start", staticmethod(
        lambda spec, engine: starts.append(spec) or FailingHandle(host)))
    live._ensure(host, "s1", for_captions=True)
    task = live.running["s1"]
    for _ in range(100):  # the starts, each failing at its first look
        if len(starts) == transcribers.MAX_STARTS:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(3 * transcribers.TICK_SECS)
    assert len(starts) == transcribers.MAX_STARTS and captured == []
    assert not task.done()  # waiting for the session's end
    host.room.session_id = None  # the session ended
    await asyncio.wait_for(task, 2)
    assert captured == [("a1", "m1", "s1", tmp_path / "capture")]
