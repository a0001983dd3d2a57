"""The transcriber: joins a live session as a hidden participant and listens.

`run_transcriber(spec, control)` is what the server runs in a transcriber process (the
recorder's harness, `salon.recording.process.RecorderProcess`), one per session that
needs it. Like the recorder it needs nothing but the gateway URL and its token, so it
runs wherever it can reach the server. It:

- subscribes to every peer's audio, and nothing else (`media.subscribe` manual, the
  `<peer>:audio` tracks of everyone in the roster), with the packets left encoded;
- keeps each voice as contiguous Opus WebM files for the post-meeting transcript when
  `spec.capture_dir` is set (`capture.CapturedVoice`);
- decodes the voices of peers the room marks `transcribed` and feeds them to a
  `LiveCaptioner` (salon.ai.captions), whose worker thread recognizes speech; each
  caption goes back to the room with `transcript.publish`, and the room tells everyone;
- ends with the session (`room.ended`), when removed, or when the server asks; the
  captured files are then final and `complete.json` says so.

Recognition never runs on this process's event loop, and the loop never waits for it:
when the captioner is behind it drops work (salon.ai.captions), while capture and the
meeting go on.
"""

import asyncio
import contextlib
import logging
import resource
import secrets
import time
from datetime import datetime
from typing import Any

from websockets.exceptions import ConnectionClosed

from salon.client import RealtimeClient, RealtimeError
from salon.client.media import MediaSession, RemoteTrack, speaking_first
from salon.recording.spec import RecordingControl, RecordingOutcome, StopReason
from salon.transcription.capture import CapturedVoice, Speaker, mark_complete
from salon.transcription.priority import yield_cpu_to_the_server
from salon.transcription.spec import TranscriberSpec
from salon.transcription.voice import VoiceClock, VoiceDecoder

log = logging.getLogger("salon.transcription")

#: Close codes that end the transcriber's part as the session ends: a normal close, the
#: server going away or restarting, removed, the meeting ended (docs/protocol.md).
SESSION_OVER_CODES = frozenset({1000, 1001, 1012, 4003, 4005})


def closed_by_the_session(exc: BaseException) -> bool:
    """Whether `exc` is the server closing the connection because the session is over
    (a request on its way when the meeting ended), which is no failure of the transcriber.
    The socket can say so before the client has noticed the close itself."""
    received = exc.rcvd if isinstance(exc, ConnectionClosed) else None
    return received is not None and received.code in SESSION_OVER_CODES

POLL_SECS = 0.05
#: Packets a voice may have waiting before the oldest are dropped (10 s of audio).
QUEUE_PACKETS = 500


def run_transcriber(spec: TranscriberSpec, control: RecordingControl) -> RecordingOutcome:
    """Listen until the session ends; blocking (runs its own event loop)."""
    logging.basicConfig(level=logging.INFO)
    yield_cpu_to_the_server()
    return asyncio.run(Transcriber(spec, control).run())


class Transcriber:
    def __init__(self, spec: TranscriberSpec, control: RecordingControl) -> None:
        self.spec = spec
        self.control = control
        self.peer: RealtimeClient | None = None
        self.media: MediaSession | None = None
        #: peer id → its public view, as the room announced it.
        self.roster: dict[str, dict[str, Any]] = {}
        self.voices: dict[str, CapturedVoice] = {}
        #: Names this transcriber's files apart from those of others capturing the same
        #: session into the same directory (`capture`).
        self.run_tag = secrets.token_hex(3)
        self.decoders: dict[str, VoiceDecoder] = {}
        self.clocks: dict[str, VoiceClock] = {}
        self.captioner: Any = None
        self._captions_failed = False
        self._consumers: dict[str, asyncio.Task[None]] = {}
        self._over = asyncio.Event()
        self._sent = {"interim": 0, "final": 0, "refused": 0}
        self._started = time.monotonic()
        self._cpu = _cpu_secs()

    async def run(self) -> RecordingOutcome:
        reason: StopReason = "INTERNAL_ERROR"
        error: str | None = None
        try:
            await self._join()
            reason = await self._listen()
        except Exception as exc:  # noqa: BLE001 - the outcome says what went wrong
            if isinstance(exc, RealtimeError) and exc.code == "SESSION_ENDED":
                log.info("transcriber of session %s came too late: %s",
                         self.spec.session_id, exc.message)
                reason = "ALL_PEERS_LEFT"
            elif ((self.peer is not None and self.peer.closed.is_set())
                  or closed_by_the_session(exc)):
                # The session ended (or the server went) while a request was on its way:
                # the end of the session, not a failure.
                log.info("transcriber of session %s: the connection closed (%s)",
                         self.spec.session_id, exc)
                reason = "ALL_PEERS_LEFT"
            else:
                log.exception("transcriber of session %s failed", self.spec.session_id)
                error = f"{type(exc).__name__}: {exc}"
        await self._finish(error)
        return RecordingOutcome(duration_secs=round(time.monotonic() - self._started, 3),
                                stop_reason=reason, error=error, extra=self._figures())

    # --- joining and following the room ---------------------------------------------------

    async def _join(self) -> None:
        self.peer = peer = await RealtimeClient.join(self.spec.gateway_url, self.spec.token,
                                                     session_id=self.spec.session_id)
        if peer.status != "joined":
            raise RuntimeError(f"the transcriber is {peer.status}, not joined")
        for view in peer.joined["room"]["peers"]:
            if view["peer_id"] != peer.peer_id:
                self.roster[view["peer_id"]] = view
        peer.listen({"peer.joined": lambda data: self._upsert(data["peer"]),
                     "peer.updated": lambda data: self._upsert(data["peer"]),
                     "peer.left": lambda data: self._left(data["peer_id"]),
                     "room.ended": lambda data: self._over.set(),
                     "self.kicked": lambda data: self._over.set()})
        self.media = await MediaSession.attach(peer)
        await self._subscribe()
        self.control.started()

    def _upsert(self, view: dict[str, Any]) -> None:
        peer_id = view["peer_id"]
        before = self.roster.get(peer_id, {})
        self.roster[peer_id] = view
        stopped = before.get("audio") and not view.get("audio")
        if (stopped or not view.get("transcribed")) and self.captioner is not None:
            self.captioner.end_speaker(peer_id)  # a muted voice's utterance is over

    def _left(self, peer_id: str) -> None:
        self.roster.pop(peer_id, None)
        voice = self.voices.pop(f"{peer_id}:audio", None)
        if voice is not None:
            voice.close(left_at=time.time())
        self.decoders.pop(f"{peer_id}:audio", None)
        self.clocks.pop(f"{peer_id}:audio", None)
        if self.captioner is not None:
            self.captioner.end_speaker(peer_id)

    async def _subscribe(self) -> None:
        """Receive exactly the audio of everyone in the roster (never video)."""
        if self.media is not None:
            await self.media.listen_to(speaking_first(self.roster))

    # --- listening ------------------------------------------------------------------------

    async def _listen(self) -> StopReason:
        assert self.peer is not None and self.media is not None
        while True:
            await self._subscribe()
            for track_id, remote in list(self.media.remotes.items()):
                if remote.kind == "audio" and track_id not in self._consumers:
                    self._consumers[track_id] = asyncio.ensure_future(self._consume(remote))
            self.peer.drain()  # events nobody here listens to
            if self._over.is_set() or self.peer.closed.is_set():
                return "ALL_PEERS_LEFT"
            reason = self.control.stop_requested()
            if reason is not None:
                return reason
            if time.monotonic() - self._started >= self.spec.max_seconds:
                return "MAX_SECONDS"
            await asyncio.sleep(POLL_SECS)

    async def _consume(self, remote: RemoteTrack) -> None:
        first = True
        async for packet in remote.frames(maxsize=QUEUE_PACKETS):
            if packet is None:
                continue
            arrived = time.time()
            if first:
                first = False
                for at, earlier in await self._backlog(remote, int(packet.pts or 0)):
                    self._take(remote, earlier, at)
            self._take(remote, packet, arrived)

    async def _backlog(self, remote: RemoteTrack, before: int) -> list[tuple[float, Any]]:
        """What the voice said in the seconds before its first packet reached us (the
        server keeps them: we join after the session starts); none if it cannot say."""
        if self.media is None:
            return []
        try:
            return await self.media.backlog(remote.track_id, before,
                                            since=self.spec.backlog_since)
        except Exception as exc:  # noqa: BLE001 - a refusal, a timeout: not the voice's end
            log.info("no backlog of %s: %s", remote.track_id, exc)
            return []

    def _take(self, remote: RemoteTrack, packet: Any, arrived: float) -> None:
        """One Opus packet of a voice: kept for the transcript, heard by the captioner."""
        view = self.roster.get(remote.peer_id)
        if view is None:
            return  # left (or not announced yet): nobody to attribute it to
        if self.spec.capture_dir is not None:
            self._voice(remote, view).write(packet, arrived)
        if view.get("transcribed"):
            captioner = self._live_captioner()
            if captioner is not None:
                decoder = self.decoders.setdefault(remote.track_id, VoiceDecoder())
                clock = self.clocks.setdefault(remote.track_id, VoiceClock())
                at = clock.at(int(packet.pts or 0), arrived)
                samples = decoder.decode(packet)
                if samples.size:
                    captioner.feed(remote.peer_id, samples, at)

    def _voice(self, remote: RemoteTrack, view: dict[str, Any]) -> CapturedVoice:
        voice = self.voices.get(remote.track_id)
        if voice is None:
            assert self.spec.capture_dir is not None
            joined = view.get("joined_at")
            speaker = Speaker(
                participant_id=view.get("participant_id") or remote.peer_id,
                peer_id=remote.peer_id,
                custom_participant_id=view.get("custom_participant_id") or "",
                name=view.get("name") or "", joined_at=_unix(joined) or time.time())
            voice = self.voices[remote.track_id] = CapturedVoice(
                self.spec.capture_dir, speaker, run=f"{self.run_tag}-")
        return voice

    # --- captions -------------------------------------------------------------------------

    def _live_captioner(self) -> Any:
        """The captioner, made (and the model loaded) when the first captioned voice is
        heard; None if it cannot be (logged once: the meeting goes on uncaptioned)."""
        if self.captioner is None and not self._captions_failed:
            try:
                from salon.ai.captions import LiveCaptioner
                from salon.ai.recognizer import Recognizer

                recognizer = Recognizer(self.spec.model_path, cpu_threads=self.spec.cpu_threads)
                loop = asyncio.get_running_loop()
                self.captioner = LiveCaptioner(
                    recognizer, lambda caption: loop.call_soon_threadsafe(self._publish, caption),
                    language=self.spec.language, keywords=self.spec.keywords,
                    profanity_filter=self.spec.profanity_filter)
            except Exception:
                self._captions_failed = True
                log.exception("live captions of session %s are off: the captioner could not "
                              "start", self.spec.session_id)
        return self.captioner

    def _publish(self, caption: Any) -> None:
        if self.peer is None or self.peer.closed.is_set():
            return
        asyncio.ensure_future(self._send(caption))

    async def _send(self, caption: Any) -> None:
        assert self.peer is not None
        try:
            await self.peer.request("transcript.publish", peer_id=caption.speaker,
                                    id=caption.utterance_id, transcript=caption.text[:4000],
                                    is_partial=caption.is_partial)
            self._sent["interim" if caption.is_partial else "final"] += 1
        except Exception as exc:  # the speaker left, lost transcription, or we are closing
            self._sent["refused"] += 1
            log.info("caption of %s not published: %s", caption.speaker, exc)

    # --- the end --------------------------------------------------------------------------

    async def _finish(self, error: str | None) -> None:
        if self.captioner is not None:
            for peer_id in list(self.roster):
                self.captioner.end_speaker(peer_id)
            await asyncio.sleep(0)  # finals already made still go out
            await asyncio.to_thread(self.captioner.close)
        for task in self._consumers.values():
            task.cancel()
        await asyncio.gather(*self._consumers.values(), return_exceptions=True)
        now = time.time()
        for voice in self.voices.values():
            await asyncio.to_thread(voice.close, now)
        if self.spec.capture_dir is not None:
            await asyncio.to_thread(mark_complete, self.spec.capture_dir,
                                    self.spec.session_id, error)
        if self.media is not None:
            with contextlib.suppress(Exception):
                await self.media.close()
        if self.peer is not None:
            with contextlib.suppress(Exception):
                await self.peer.leave()

    def _figures(self) -> dict[str, str]:
        figures = {f"captions_{k}": str(v) for k, v in self._sent.items()}
        figures["cpu_secs"] = f"{_cpu_secs() - self._cpu:.3f}"
        figures["voices_files"] = str(sum(v.files for v in self.voices.values()))
        if self.captioner is not None:
            figures |= {f"captioner_{k}": str(v) for k, v in self.captioner.stats.items()}
        return figures


def _unix(timestamp: str | None) -> float | None:
    """Unix seconds of a protocol timestamp (ISO 8601 with `Z`)."""
    if not timestamp:
        return None
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _cpu_secs() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
