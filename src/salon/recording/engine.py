"""The recorder: joins the meeting as its hidden recorder participant and records it.

`run_recording(spec, control)` is what the control plane runs in a recorder process
(process.py). It needs nothing but the gateway URL and the recorder's token, so it runs
on any machine that can reach the server. The recorder:

- joins with `RealtimeClient`, receives every audio, video and screenshare track the
  server sends it (auto mode: the preset's `max_video_streams` most relevant videos)
  through a pass-through `MediaSession`: the packets stay encoded until the recorder
  decides to decode them;
- follows the room (`peer.*`, `media.speaker`, `media.unpublished`) in a `Roster`;
- feeds a composite (`CompositePipeline`: decode what is on screen, compose, mix,
  encode once) or copies each chosen participant's Opus packets into its own WebM
  (`OpusTrackFile`);
- in a `url` recording, opens that page in headless Chromium with its own token as
  `authToken` (`salon.recording.page`) and records its frames in place of the layout,
  receiving the meeting's audio only (`media.subscribe` manual: every `<peer>:audio`);
- in an interactive recording, turns each `ID3Data` broadcast it receives while
  recording into a timed ID3 tag (`salon.recording.interactive`);
- polls `control` for pauses and stops, and ends with `ALL_PEERS_LEFT` when the room
  ends or the recorder is removed, `MAX_SECONDS` at `spec.max_seconds` recorded.
"""

import asyncio
import contextlib
import logging
import resource
import time
from typing import Any

from salon.client import RealtimeClient, RealtimeError
from salon.client.media import MediaSession, RemoteTrack, speaking_first
from salon.media.embedded import hooks
from salon.recording import interactive
from salon.recording.clock import RecordingClock
from salon.recording.outputs import probe
from salon.recording.page import PageCapture, PageError, chromium_path
from salon.recording.pipeline import CompositePipeline
from salon.recording.roster import Roster
from salon.recording.spec import (
    LOST_MEETING,
    OutputFile,
    RecordingControl,
    RecordingOutcome,
    RecordingSpec,
    StopReason,
)
from salon.recording.tracks import OpusTrackFile

log = logging.getLogger("salon.recording.engine")

#: How often the recorder looks at the control and the room.
POLL_SECS = 0.02
#: The room events the roster follows (handled as they arrive, never queued).
ROOM_EVENTS = ("peer.joined", "peer.left", "peer.updated", "media.speaker")


def run_recording(spec: RecordingSpec, control: RecordingControl) -> RecordingOutcome:
    """Record until stopped; blocking (it runs its own event loop, so call it in a
    process or a thread of its own, never from a running loop)."""
    return asyncio.run(record(spec, control))


async def record(spec: RecordingSpec, control: RecordingControl) -> RecordingOutcome:
    """`run_recording` as a coroutine, for a caller that already runs a loop."""
    return await Recorder(spec, control).run()


class NotLetIn(Exception):
    """The gateway refused the recorder's join (the meeting went inactive, the session
    ended): an outcome to report, not a failure to log with a traceback."""


class Recorder:
    def __init__(self, spec: RecordingSpec, control: RecordingControl) -> None:
        self.spec = spec
        self.control = control
        self.clock = RecordingClock()
        self.roster = Roster()
        self.room_over = asyncio.Event()
        self.pipeline: CompositePipeline | None = None
        self.track_files: dict[str, OpusTrackFile] = {}
        self.peer: RealtimeClient | None = None
        self.media: MediaSession | None = None
        #: A url recording's browser (None for salon's own layout).
        self.page: PageCapture | None = None
        self._consumers: dict[str, asyncio.Task[None]] = {}
        self._started = False
        #: `CLOSE_TRANSPORT` came: an interactive recording takes no more tags.
        self._cues_closed = False
        #: The connection to the meeting went without the meeting ending (its node died
        #: or handed it over): reported, so the control plane may carry the recording on.
        self._lost_meeting = False
        self._wall = time.monotonic()
        self._cpu = _cpu_secs()

    # --- the recording --------------------------------------------------------------------

    async def run(self) -> RecordingOutcome:
        reason: StopReason = "INTERNAL_ERROR"
        error: str | None = None
        try:
            try:
                await self._join()
                reason = await self._record()
            except (NotLetIn, PageError) as refused:  # an outcome to act on, not a bug
                log.warning("recording %s: %s", self.spec.recording_id, refused)
                error = str(refused)
            except Exception as exc:  # noqa: BLE001 - the outcome says what went wrong
                log.exception("recording %s failed", self.spec.recording_id)
                error = f"{type(exc).__name__}: {exc}"
            files, duration = await self._finish()
        finally:
            if self.page is not None:  # whatever happened (cancelled too), the browser goes
                await self.page.close()
        if self.pipeline is not None and self.pipeline.error is not None and error is None:
            reason, error = "INTERNAL_ERROR", repr(self.pipeline.error)
        extra = self._figures() | ({LOST_MEETING: "1"} if self._lost_meeting else {})
        return RecordingOutcome(files=tuple(files), duration_secs=round(duration, 3),
                                stop_reason=reason, error=error, extra=extra)

    async def _join(self) -> None:
        if self.spec.url:
            chromium_path()  # no Chromium: fail before joining, saying how to get it
        try:
            self.peer = peer = await RealtimeClient.join(self.spec.gateway_url,
                                                         self.spec.token)
        except RealtimeError as refused:
            raise NotLetIn(f"the recorder was not let in: {refused}") from None
        if peer.status != "joined":
            raise RuntimeError(f"the recorder is {peer.status}, not joined: its preset "
                               "must let it in without the waiting room")
        for peer_view in peer.joined["room"]["peers"]:
            if peer_view["peer_id"] != peer.peer_id:  # the room state lists the recorder
                self.roster.apply("peer.joined", {"peer": peer_view})
        # who spoke last (media.speaker only says when it changes)
        self.roster.apply("media.speaker",
                          {"peer_id": peer.joined["room"].get("last_speaker_peer_id")})
        peer.listen({
            **{event: lambda data, event=event: self._room_event(event, data)
               for event in ROOM_EVENTS},
            "media.unpublished": self._unpublished,
            "broadcast": self._broadcast,
            "room.ended": lambda data: self.room_over.set(),
            "self.kicked": lambda data: self.room_over.set()})
        if self.spec.kind == "composite":
            if self.spec.url:
                video = self.spec.video
                self.page = PageCapture(self.spec.url, self.spec.token, video.width,
                                        video.height)
                await self.page.open()  # loaded before the clock starts
            self.pipeline = CompositePipeline(self.spec, self.clock,
                                              self.page.picture if self.page else None)
            self.pipeline.scene = self.roster.scene()
        self.media = await MediaSession.attach(peer)
        await self._subscribe_audio()
        self.clock.start()
        if self.pipeline is not None:
            self.pipeline.start()

    async def _record(self) -> StopReason:
        """Poll until something ends the recording; returns why."""
        assert self.peer is not None and self.media is not None
        while True:
            await self._subscribe_audio()
            self._follow_tracks()
            self.peer.drain()  # events nobody here listens to
            if self.room_over.is_set():
                return "ALL_PEERS_LEFT"
            if self.peer.closed.is_set():
                self._lost_meeting = True
                return "ALL_PEERS_LEFT"
            reason = self.control.stop_requested()
            if reason is not None:
                return reason
            if self.control.paused():
                self.clock.pause()
            else:
                self.clock.resume()
            if (self.pipeline.full.is_set() if self.pipeline is not None
                    else self.clock.now() >= self.spec.max_seconds):
                return "MAX_SECONDS"  # a composite has written its last frame by then
            if self.page is not None and self.page.failed:
                raise PageError(self.page.failed)
            if self.pipeline is not None:
                if not self.pipeline.is_alive():
                    raise RuntimeError(f"the media thread stopped: {self.pipeline.error!r}")
                for track_id in self.pipeline.keyframes_wanted():
                    self._ask_keyframe(track_id)
            if not self._started and self._has_output():
                self._started = True
                self.control.started()
            await asyncio.sleep(POLL_SECS)

    async def _subscribe_audio(self) -> None:
        """A url recording draws no participant: it receives exactly everyone's audio
        (as the transcriber does), never a video or screenshare."""
        if self.page is not None and self.media is not None:
            await self.media.listen_to(speaking_first(self.roster.peers))

    def _has_output(self) -> bool:
        if self.pipeline is not None:
            return self.pipeline.started.is_set()
        return any(f.packets for f in self.track_files.values())

    async def _finish(self) -> tuple[list[OutputFile], float]:
        """Stop receiving, finalize every file, leave the meeting."""
        for task in self._consumers.values():
            task.cancel()
        files: list[OutputFile] = []
        duration = self.clock.now()
        if self.pipeline is not None:
            if self.pipeline.ident is None:  # failed before it started: no file to keep
                self.pipeline.writer.abandon()
            elif self.pipeline.is_alive():
                self.pipeline.stop()
                await asyncio.to_thread(self.pipeline.join)
            duration = min(self.pipeline.duration, float(self.spec.max_seconds))
            for path, role in self.pipeline.files:
                files.append(await asyncio.to_thread(probe, path, role))
        for track_file in self.track_files.values():
            done = await asyncio.to_thread(track_file.close)
            if done is not None:
                files.append(done)
        if self.media is not None:
            await self.media.close()
        if self.peer is not None:
            with contextlib.suppress(Exception):
                await self.peer.leave()
        return files, min(duration, float(self.spec.max_seconds))

    def _figures(self) -> dict[str, str]:
        """What the benchmark and the operator read: CPU, frames, time in the thread."""
        wall = time.monotonic() - self._wall
        figures = {"wall_secs": f"{wall:.3f}", "cpu_secs": f"{_cpu_secs() - self._cpu:.3f}"}
        if self.page is not None:
            figures |= {"page_frames": str(self.page.picture.received)}
        if self.pipeline is not None:
            figures |= {"frames": str(self.pipeline.frames),
                        "skipped_frames": str(self.pipeline.skipped),
                        "repeated_frames": str(self.pipeline.repeated),
                        "busy_secs": f"{self.pipeline.busy_secs:.3f}"}
        return figures

    # --- following the room ---------------------------------------------------------------

    def _room_event(self, event: str, data: dict[str, Any]) -> None:
        if event == "peer.left":
            for kind in ("audio", "video", "screenshare"):
                self._ended(f"{data['peer_id']}:{kind}")
        if self.roster.apply(event, data) and self.pipeline is not None:
            self.pipeline.scene = self.roster.scene()

    def _broadcast(self, data: dict[str, Any]) -> None:
        """An interactive recording's cue: an `ID3Data` broadcast that arrives while it
        records (RECORDING, not paused) is a tag at the recorded time it arrived;
        `CLOSE_TRANSPORT` (as the type, or as an `ID3Data` payload) ends the tags."""
        if self.pipeline is None or self.spec.interactive is None or self._cues_closed:
            return
        kind, payload = data.get("type"), data.get("payload")
        if interactive.closes(kind, payload):
            self._cues_closed = True
        elif kind == interactive.ID3_DATA and self._started and self.clock.running:
            try:
                tag = interactive.id3_tag(payload)
            except Exception:  # noqa: BLE001 - a cue is never worth the connection
                log.exception("recording %s: a cue could not be made into an ID3 tag",
                              self.spec.recording_id)
                return
            self.pipeline.cue(tag, self.clock.now())

    def _unpublished(self, data: dict[str, Any]) -> None:
        self._ended(data["track_id"])

    def _ended(self, track_id: str) -> None:
        if self.pipeline is not None:
            self.pipeline.ended(track_id)

    def _follow_tracks(self) -> None:
        """Start reading every track the media session has learnt about."""
        assert self.media is not None
        for track_id, remote in list(self.media.remotes.items()):
            if track_id not in self._consumers:
                self._consumers[track_id] = asyncio.ensure_future(self._consume(remote))

    async def _consume(self, remote: RemoteTrack) -> None:
        """Hand each encoded packet of `remote` on, stamped with its arrival."""
        codec = self._codec_of(remote.track_id)
        async for packet in remote.frames(maxsize=240):
            if packet is None:
                continue
            if remote.kind == "audio":
                if not self.clock.running:
                    continue  # paused: the gap is not recorded
                if self.pipeline is not None:
                    self.pipeline.audio(remote.track_id, packet, self.clock.now(),
                                        self.clock.epoch)
                else:
                    self._copy(remote, packet)
            elif self.pipeline is not None and self.page is None:
                self.pipeline.video(remote.track_id, codec or self._codec_of(remote.track_id),
                                    packet)

    def _codec_of(self, track_id: str) -> str:
        assert self.media is not None
        for info in self.media.mids.values():
            if info is not None and info["track_id"] == track_id:
                return info.get("codec", "")
        return ""

    def _copy(self, remote: RemoteTrack, packet: Any) -> None:
        """Track recordings: the packet goes to its participant's file as it is."""
        person = self.roster.participant_of(remote.peer_id) or {}
        participant = person.get("participant_id") or remote.peer_id
        wanted = self.spec.user_ids
        if wanted is not None and participant not in wanted and \
                person.get("custom_participant_id") not in wanted:
            return
        track_file = self.track_files.get(remote.track_id)
        if track_file is None:
            track_file = self.track_files[remote.track_id] = OpusTrackFile(
                self.spec.output_dir, self.spec.track_prefix, participant, remote.peer_id)
        track_file.write(packet, self.clock.epoch)

    def _ask_keyframe(self, track_id: str) -> None:
        """A PLI to the publisher of `track_id`, through the server (it relays PLIs)."""
        assert self.media is not None
        pc = self.media.sub_pc
        if pc is None:
            return
        for transceiver in pc.getTransceivers():
            info = self.media.mids.get(str(transceiver.mid))
            if info is not None and info["track_id"] == track_id:
                receiver = transceiver.receiver
                for source in receiver.getSynchronizationSources():
                    hooks.send_pli(receiver, source.source)


def _cpu_secs() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
