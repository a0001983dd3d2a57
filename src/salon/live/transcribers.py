"""Transcribers meet live rooms: a session that needs one gets one.

A session needs a transcriber when its meeting has `transcribe_on_end` (every voice is
kept for the post-meeting transcript) or as soon as a peer whose preset has
`transcription_enabled` is admitted (live captions). The transcriber is a hidden
participant with the app's recorder preset, run in a process of its own
(`salon.transcription.listener`, through the recorder's process harness), so speech
recognition never shares the server's event loop or its GIL. It leaves when the session
ends; what it kept then goes to the post-meeting job.

After a failover (docs/cluster.md "Failover") the node that carries a session on starts
its transcriber again by the same rule (`adopted`): the meeting has `transcribe_on_end`,
or a peer with `transcription_enabled` is seated — and returning peers are seated by
`RoomHost.restore`, which records no join, so the seated peers are looked at until the
resume window is over. The new transcriber captures into the session's capture
directory beside what the dead node's kept (each transcriber's files are named apart, the
index is appended to), so with a shared data directory the post-meeting transcript
covers the whole session.

A room this node hands over while its session goes on (drained, lease lost, sent to its
family's node) is no longer this node's: its transcriber's peer is closed (4013) and the
transcriber stops without its capture being reported as finished — the node that ends
the session makes the transcript (reading both captures, with a shared data directory) —
and no transcriber starts here again for it.
"""

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from salon.core.room import Record
from salon.live.failover import Orphan
from salon.live.host import RoomHost
from salon.live.rooms import Rooms
from salon.recording.process import RecorderProcess
from salon.recording.spec import RecordingOutcome
from salon.services import recordings
from salon.services.participant_tokens import TokenSigner
from salon.store.models import Meeting
from salon.transcription.capture import capture_dir as capture_dir_of
from salon.transcription.spec import TranscriberSpec

log = logging.getLogger("salon.transcription")

ENGINE = "salon.transcription.listener:run_transcriber"
#: How often a running transcriber is looked at.
TICK_SECS = 0.25
#: After its session ended, how long a transcriber has to finish before it is stopped
#: (it leaves by itself on `room.ended`), and then before it is killed.
LINGER_SECS = 15.0
KILL_AFTER_SECS = 30.0
#: A transcriber that fails while its session goes on is started again, this many times
#: in all (what the failed one kept stays kept).
MAX_STARTS = 3

#: Told when a session's voices are all kept: (app id, meeting id, session id, directory).
Captured = Callable[[str, str, str, Path], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class TranscriberSettings:
    data_dir: Path
    gateway_url: str
    model_path: Path | None = None
    cpu_threads: int = 2
    #: `module:function` to run in the process (tests name their own).
    engine: str = ENGINE


class LiveTranscribers:
    def __init__(self, rooms: Rooms, settings: TranscriberSettings, signer: TokenSigner,
                 on_captured: Captured | None = None) -> None:
        self.rooms = rooms
        self.settings = settings
        self.signer = signer
        self.on_captured = on_captured
        #: session id → the task that runs its transcriber.
        self.running: dict[str, asyncio.Task[None]] = {}
        self.handles: dict[str, RecorderProcess] = {}
        self._stopping = False
        self._watchers: set[asyncio.Task[None]] = set()
        #: Sessions a captioned peer was seated in while their task was starting.
        self._wants_captions: set[str] = set()
        rooms.session_listeners.append(self.session_changed)
        rooms.adoption_listeners.append(self.adopted)

    def capture_dir(self, session_id: str) -> Path:
        return capture_dir_of(self.settings.data_dir, session_id)

    def session_changed(self, host: RoomHost, record: Record) -> None:
        session_id = record.data.get("session_id")
        if not session_id:
            return
        if record.kind == Record.SESSION_STARTED:
            self._ensure(host, session_id, for_captions=False)
        elif record.kind == Record.PEER_JOINED:
            peer = host.room.peers.get(record.data.get("peer_id", ""))
            if peer is not None and peer.permissions.transcription_enabled:
                self._ensure(host, session_id, for_captions=True)

    def adopted(self, host: RoomHost, orphan: Orphan) -> None:
        """This node carries on `orphan`, a session whose node died (and its transcriber
        with it): a transcriber starts here if the session needs one."""
        self._ensure(host, orphan.session_id, for_captions=False)  # transcribe_on_end
        task = asyncio.create_task(self._watch_returns(host, orphan.session_id),
                                   name=f"transcriber returns {orphan.session_id}")
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch_returns(self, host: RoomHost, session_id: str) -> None:
        """Peers coming back to an adopted session are seated with no join on record
        (`RoomHost.restore`), so no PEER_JOINED tells of a captioned one: look at the
        seated peers until the resume window is over (new joins are heard as usual), or
        until the room is no longer this node's (handed over)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + host.settings.resume_grace_secs + TICK_SECS
        while not self._stopping and host.room.session_id == session_id \
                and self._runs(host) and loop.time() < until:
            if session_id not in self.running and any(
                    peer.permissions.transcription_enabled
                    for peer in list(host.room.peers.values())):
                self._ensure(host, session_id, for_captions=True)
            if not host.expected:
                return
            await asyncio.sleep(TICK_SECS)

    def _runs(self, host: RoomHost) -> bool:
        """Whether this node still runs the host's room (not handed over)."""
        return not host.handed_over and self.rooms.get(host.meeting_id) is host

    def _ensure(self, host: RoomHost, session_id: str, *, for_captions: bool) -> None:
        if not self._runs(host):
            return
        if session_id in self.running:
            if for_captions:  # the running task may still be deciding there is no need
                self._wants_captions.add(session_id)
            return
        task = asyncio.create_task(self._run(host, session_id, for_captions),
                                   name=f"transcriber {session_id}")
        self.running[session_id] = task
        task.add_done_callback(lambda _: self._ended(session_id))

    def _ended(self, session_id: str) -> None:
        self.running.pop(session_id, None)
        self._wants_captions.discard(session_id)

    async def _run(self, host: RoomHost, session_id: str, for_captions: bool) -> None:
        try:
            spec = await self._spec(host, session_id, for_captions)
            if spec is None and session_id in self._wants_captions:
                # A captioned peer was seated while this task looked at the meeting (the
                # first peer of a session is seated as the session starts).
                spec = await self._spec(host, session_id, True)
            if spec is None:
                return
            for attempt in range(1, MAX_STARTS + 1):
                handle = self.handles[session_id] = RecorderProcess.start(
                    spec, self.settings.engine)
                try:
                    outcome = await self._follow(host, session_id, handle)
                finally:
                    self.handles.pop(session_id, None)
                if host.handed_over:
                    log.info("transcriber of session %s stopped: the meeting was handed "
                             "over (it goes on on another node)", session_id)
                    return  # not captured yet: the node that ends the session says so
                if not outcome.error:
                    log.info("transcriber of session %s done (%s): %s", session_id,
                             outcome.stop_reason, outcome.extra)
                    break
                live = host.room.session_id == session_id
                log.error("transcriber of session %s failed (start %d of %d)%s: %s",
                          session_id, attempt, MAX_STARTS,
                          "; starting another" if live and attempt < MAX_STARTS else "",
                          outcome.error)
                if not live or self._stopping:
                    break
                # The next one takes what was said from now on: the failed one kept
                # what came before (a backlog from before would be heard twice).
                spec = dataclasses.replace(spec, backlog_since=time.time())
            else:  # every start failed while the session goes on: no captions from here,
                # and what was captured is reported when the session ends, not now (a
                # transcript made mid-session would be replaced by a later one)
                await self._until_over(host, session_id)
                if host.handed_over:
                    return
            if spec.capture_dir is not None and self.on_captured is not None:
                await self.on_captured(host.app_id, host.meeting_id, session_id,
                                       spec.capture_dir)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the transcriber of session %s could not run", session_id)

    async def _until_over(self, host: RoomHost, session_id: str) -> None:
        """Until the session has ended here, the room was handed over, or this node
        stops."""
        while host.room.session_id == session_id and self._runs(host) \
                and not self._stopping:
            await asyncio.sleep(TICK_SECS)

    async def _spec(self, host: RoomHost, session_id: str,
                    for_captions: bool) -> TranscriberSpec | None:
        """What the transcriber is to do; None if the session needs none after all."""
        async with self.rooms.database.session() as db:
            meeting = await db.get(Meeting, host.meeting_id)
            if meeting is None or host.room.session_id != session_id \
                    or not self._runs(host):
                return None
            capture = bool(meeting.transcribe_on_end)
            if not capture and not for_captions:
                return None
            participant = await recordings.hidden_recorder(
                db, meeting.app_id, meeting.id, f"transcriber-{session_id}", "Transcriber")
            token = self.signer.mint(participant)
            options = (meeting.ai_config or {}).get("transcription") or {}
        capture_dir = self.capture_dir(session_id) if capture else None
        if capture_dir is not None:
            capture_dir.mkdir(parents=True, exist_ok=True)
        return TranscriberSpec(
            recording_id=TranscriberSpec.process_name(session_id), session_id=session_id,
            gateway_url=self.settings.gateway_url, token=token, capture_dir=capture_dir,
            language=options.get("language", "en-US"),
            keywords=tuple(options.get("keywords") or ()),
            profanity_filter=bool(options.get("profanity_filter", False)),
            model_path=self.settings.model_path, cpu_threads=self.settings.cpu_threads)

    async def _follow(self, host: RoomHost, session_id: str,
                      handle: RecorderProcess) -> RecordingOutcome:
        """Wait for the transcriber to end; one that outstays its session is stopped,
        then killed."""
        loop = asyncio.get_running_loop()
        over_since: float | None = None
        stopped = False
        while (outcome := handle.poll()) is None:
            if host.handed_over and not stopped:  # its peer is closed with 4013 anyway
                handle.control.stop("ALL_PEERS_LEFT")
                stopped = True
            if host.room.session_id != session_id:
                over_since = over_since or loop.time()
                if not stopped and loop.time() - over_since > LINGER_SECS:
                    handle.control.stop("ALL_PEERS_LEFT")
                    stopped = True
                elif loop.time() - over_since > KILL_AFTER_SECS:
                    handle.kill()
            await asyncio.sleep(TICK_SECS)
        return outcome

    async def stop(self, grace: float = 10.0) -> None:
        """Server going away: every transcriber finishes what it kept (the post-meeting
        jobs pick it up, now or at the next start)."""
        self._stopping = True
        for watcher in list(self._watchers):
            watcher.cancel()
        for handle in list(self.handles.values()):
            handle.control.stop("INTERNAL_ERROR")
        tasks = list(self.running.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            for handle in list(self.handles.values()):
                handle.kill()
            with contextlib.suppress(Exception):
                await asyncio.gather(*pending, return_exceptions=True)
