"""The recording scheduler: claims queued recordings, runs their recorders, and moves
each through its lifecycle (`salon.core.recordings`).

It runs in the server next to the webhook dispatcher. At most `max_concurrent`
recordings record at once; the others wait INVOKED (never failed). For each claimed one
it makes the hidden recorder participant, builds the `RecordingSpec`, starts the
recorder process (`salon.recording.process.RecorderProcess`), then follows the row:
PAUSED/RECORDING/UPLOADING set by REST or realtime callers become pause/resume/stop on
the recorder; `control.started()` makes it RECORDING; the outcome makes it UPLOADING,
then its files go through storage and it ends UPLOADED, or ERRORED keeping what was
captured. A start-up after a crash ends what the crash left mid-way (`recover`).

In a cluster every node runs a scheduler on the same database: each recording is
claimed by one node (`salon.cluster.claims`), and every few heartbeats each node
`recover`s the recordings of nodes that are gone: their queued ones queue again; the
ones they were recording (or had paused) go on with their meeting: the node that runs
the meeting — the one that carried its session on after the failover, or the one that
ran it all along when only the recorder's node died — takes the claim over and starts a
recorder for the same recording (`carry_on`), whose file is joined after what the dead
recorder wrote (`salon.recording.carry`). Those whose session is over end ERRORED like
after a crash, keeping what the dead recorder wrote if this node can read it. That
part lives in `salon.recording.recovery`. A node that hands a meeting over while it goes
on (drained, lease lost) stops its recorders without finishing their recordings and lets
go of their claims, for the node that carries the meeting on (`salon.recording.handoff`).
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from salon.cluster.claims import ClaimLost, JobClaims
from salon.cluster.registry import new_node_id
from salon.core import recordings as rules
from salon.core.clock import utcnow
from salon.deadline import within
from salon.recording import carry, delivery
from salon.recording.handoff import HandOff
from salon.recording.process import ENGINE, RecorderProcess
from salon.recording.recovery import Recovery
from salon.recording.spec import AudioSpec, RecordingSpec
from salon.recording.spec_config import (
    config_interactive,
    config_live,
    config_video,
    config_watermark,
)
from salon.recording.storage import LocalStorage, storage_for
from salon.services import recordings
from salon.services.participant_tokens import TokenSigner
from salon.store.database import Database, Outages
from salon.store.models import Recording

log = logging.getLogger("salon.recording")

#: How often a running recording's row is looked at (pause, resume, stop, outcome).
TICK_SECS = 0.2
#: How often the queue is looked at without being woken.
POLL_SECS = 2.0
#: At a stop, how long recordings already being finished (stored, or handed over) are
#: waited for before they are cancelled: a share of an orchestrator's grace period (30 s
#: before SIGKILL), which the other steps of stopping need too.
FINISH_WAIT_SECS = 10.0


@dataclass(frozen=True)
class SchedulerSettings:
    max_concurrent: int
    #: `module:function` of the recorder to run; empty: the media engine.
    recorder: str
    data_dir: Path
    gateway_url: str
    link_ttl_secs: int


class RecordingScheduler(Recovery, HandOff):
    def __init__(self, database: Database, settings: SchedulerSettings, signer: TokenSigner,
                 local_storage: LocalStorage,
                 on_commit: Callable[[], None] | None = None,
                 announce: Callable[[Recording], None] | None = None,
                 claims: JobClaims | None = None) -> None:
        self.database = database
        #: Which node this is, and which others are alive (one node: a fresh id).
        self.claims = claims or JobClaims(new_node_id())
        self.local_storage = local_storage
        self.settings = settings
        self.signer = signer
        #: Wakes the webhook dispatcher after a commit that queued deliveries.
        self.on_commit = on_commit or (lambda: None)
        #: Tells the meeting's peers about a status change (`recording.updated`).
        self.announce = announce or (lambda row: None)
        #: The live session this node runs for a meeting, if any (set by
        #: `salon.live.recordings`): its recordings go on here when their recorder dies.
        self.live_session: Callable[[str], str | None] = lambda meeting_id: None
        self.running: dict[str, asyncio.Task[None]] = {}
        #: Recordings whose claim this node is taking over to carry them on (reserved
        #: before the first await, so that two callers never both start a recorder).
        self.starting: set[str] = set()
        #: Recordings being ended ERRORED after their node died (storing what was left).
        self.ending: dict[str, asyncio.Task[None]] = {}
        # Handing recordings over (salon.recording.handoff).
        self.hand_off_at_stop = False
        self.handed_off: set[str] = set()
        self.meeting_of: dict[str, str] = {}
        self.handles: dict[str, RecorderProcess] = {}
        #: Recordings whose recorder has ended and that `_finish` is storing or handing
        #: over: `stop` lets those end rather than cancel them halfway.
        self.finishing: set[str] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.recover(starting=True)
        self._loop = asyncio.create_task(self._claim_forever(), name="recording scheduler")

    async def stop(self) -> None:
        """Server going away: stop every recorder and keep what it recorded."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        for task in list(self.ending.values()):
            task.cancel()
        await asyncio.gather(*self.ending.values(), return_exceptions=True)
        # A recorder that ended just before the stop (it lost its meeting's connection
        # when the server closed its websockets) is being finished: cancelled in the
        # middle of that, its recording was neither handed over nor stored.
        finishing = [self.running[r] for r in self.finishing if r in self.running]
        if finishing:
            await asyncio.wait(finishing, timeout=FINISH_WAIT_SECS)
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    # --- the queue -----------------------------------------------------------------------

    async def _claim_forever(self) -> None:
        while True:
            try:
                if self.claims.due("recordings"):
                    await self.recover()
                await self._claim()
            except Exception:
                log.exception("claiming recordings failed")
            with contextlib.suppress(TimeoutError):
                await within(self._wake.wait(), POLL_SECS)
            self._wake.clear()

    async def _claim(self) -> None:
        free = self.settings.max_concurrent - len(self.running)
        if free <= 0 or self.claims.draining:
            return  # (a stopping node starts no recorder: another node takes the queue)
        async with self.database.session() as db:
            won = await self.claims.claim_queued(
                db, Recording, Recording.id, select(Recording.id).where(
                    Recording.status == "INVOKED", Recording.claimed_at.is_(None))
                .order_by(Recording.invoked_time).limit(free),
                Recording.status == "INVOKED")
        for recording_id in won:
            self._launch(recording_id)

    def _launch(self, recording_id: str, carried: bool = False) -> None:
        task = asyncio.create_task(self._run(recording_id, carried),
                                   name=f"recording {recording_id}")
        self.running[recording_id] = task
        task.add_done_callback(lambda _, rid=recording_id: self._done(rid))

    def _done(self, recording_id: str) -> None:
        self.running.pop(recording_id, None)
        self.handed_off.discard(recording_id)
        self.meeting_of.pop(recording_id, None)
        self.handles.pop(recording_id, None)
        self.wake()  # a recorder is free: the next queued recording may start

    # --- one recording -------------------------------------------------------------------

    async def _run(self, recording_id: str, carried: bool = False) -> None:
        """Record `recording_id`; `carried`: on from where a recorder that died with its
        node stopped (what it wrote is gathered first, before this recorder writes)."""
        handle: RecorderProcess | None = None
        try:
            if carried:
                await self._gather(recording_id)
            spec = await self._spec(recording_id)
            handle = RecorderProcess.start(spec, self.settings.recorder or ENGINE)
            self.handles[recording_id] = handle
            outcome = await self._follow(recording_id, handle)
            self.finishing.add(recording_id)
            try:
                await self._finish(recording_id, outcome)
            finally:
                self.finishing.discard(recording_id)
        except ClaimLost:
            log.warning("recording %s was taken over by another node; its recorder here "
                        "stops", recording_id)
            if handle is not None:
                handle.kill()
        except asyncio.CancelledError:
            if handle is not None:  # shutting down: let the recorder finalize its file
                handle.control.stop("INTERNAL_ERROR")
                try:
                    await asyncio.shield(self._wait_and_finish(recording_id, handle))
                except Exception:
                    log.exception("recording %s: finishing it as the server stops failed",
                                  recording_id)
            raise
        except Exception as error:
            log.exception("recording %s failed", recording_id)
            if handle is not None:
                handle.kill()
            await self._fail(recording_id, f"{type(error).__name__}: {error}")

    async def _wait_and_finish(self, recording_id: str, handle: RecorderProcess) -> None:
        for _ in range(50):
            outcome = handle.poll()
            if outcome is not None:
                await self._finish(recording_id, outcome)
                return
            await asyncio.sleep(TICK_SECS)
        handle.kill()

    async def _gather(self, recording_id: str) -> None:
        """What the dead recorder wrote, into this node's parts; a failure here costs
        that part only, never the recording going on."""
        async with self.database.session() as db:
            row = await db.get(Recording, recording_id)
            assert row is not None
        try:
            await asyncio.to_thread(carry.gather, self._earlier_dir(row),
                                    self._output_dir(row))
        except Exception:
            log.exception("gathering what recording %s's earlier recorder wrote failed: the "
                          "recording holds only what is recorded from now on", recording_id)

    async def _spec(self, recording_id: str) -> RecordingSpec:
        async with self.database.session() as db:
            row = await db.get(Recording, recording_id)
            assert row is not None
            self.meeting_of[recording_id] = row.meeting_id
            participant = await recordings.recorder_participant(db, row)
            token = self.signer.mint(participant)
            # Loaded again: making the app's recorder preset may have rolled back (another
            # recording made it first), which expires the row.
            await db.refresh(row)
            output_dir = self._output_dir(row)
            output_dir.mkdir(parents=True, exist_ok=True)
            # Where this recorder writes, for a node that carries the recording on.
            row.config = {**row.config, "work_dir": str(output_dir)}
            await db.commit()
        config = row.config
        video = config.get("video_config") or {}
        audio = config.get("audio_config") or {}
        return RecordingSpec(
            recording_id=row.id, kind=row.kind,  # type: ignore[arg-type]
            gateway_url=self.settings.gateway_url, token=token, output_dir=output_dir,
            file_name=row.output_file_name.rsplit(".", 1)[0],
            video=config_video(video, await config_watermark(video, output_dir)),
            audio=AudioSpec(codec=audio.get("codec", "AAC"),
                            channel=audio.get("channel", "stereo"),
                            export_file=bool(audio.get("export_file", False))),
            max_seconds=int(config.get("max_seconds") or 86400),
            user_ids=tuple(config["user_ids"]) if config.get("user_ids") else None,
            track_prefix=config.get("track_prefix", "default"),
            live=config_live(row.kind, config),
            interactive=config_interactive(row.kind, config),
            url=config.get("url") if row.kind == "composite" else None)

    async def _follow(self, recording_id: str, handle: RecorderProcess) -> Any:
        """Mirror the row onto the recorder until it ends; returns its outcome."""
        control = handle.control
        outages = Outages(f"recording {recording_id}")
        while (outcome := handle.poll()) is None:
            with outages:  # the database down for a moment: the recorder goes on
                async with self.database.session() as db:
                    row = await db.get(Recording, recording_id)
                    assert row is not None
                    if not self.claims.holds(row):
                        raise ClaimLost(recording_id)
                    if control.is_started() and row.status == "INVOKED":
                        self._queued(await recordings.move(db, row, "RECORDING",
                                                           started_time=utcnow()))
                        self.announce(row)
                    if row.status == "PAUSED":
                        control.pause()
                    elif row.status == "RECORDING":
                        control.resume()
                    elif row.status in ("UPLOADING", "ERRORED"):
                        control.stop((row.stop_reason or {}).get("reason", "API_CALL"))
            await asyncio.sleep(TICK_SECS)
        return outcome

    async def _finish(self, recording_id: str, outcome: Any) -> None:
        """UPLOADING, then the files joined and stored (no database session open
        meanwhile: the claim keeps other nodes off the row), then UPLOADED or ERRORED;
        or, its meeting handed over to a node that carries it on, nothing but the
        claim let go (`salon.recording.handoff`)."""
        async with self.database.session() as db:
            row = await self._held(db, recording_id)
            if row is None:
                return
            if await self.hands_off(db, row, outcome):
                await self.let_go(db, row)
                return
            await recordings.retire_recorder(db, row)
            if row.status != "UPLOADING":
                reason = "INTERNAL_ERROR" if outcome.error else outcome.stop_reason
                self._queued(await recordings.move(
                    db, row, "UPLOADING", stop_reason=row.stop_reason or {"reason": reason},
                    stopped_time=row.stopped_time or utcnow()))
                self.announce(row)
        parts = carry.parts_of(self._output_dir(row))
        files = await asyncio.to_thread(carry.joined, list(outcome.files), parts)
        fields = await delivery.store(row, files, await asyncio.to_thread(self._storage, row))
        storage_error = fields.pop("storage_error", None)
        # Nothing recorded (no file): no duration, rather than the time the recorder ran.
        recorded = max([outcome.duration_secs] + [f.duration_secs for f in files if parts])
        fields["recording_duration"] = int(round(recorded)) if fields["files"] else None
        failed = outcome.error or not fields["files"] or storage_error
        if failed:
            fields["error"] = outcome.error or storage_error or "the recorder wrote no file"
            if outcome.error and not (row.stop_reason or {}).get("reason") == "API_CALL":
                fields["stop_reason"] = {"reason": "INTERNAL_ERROR"}
        async with self.database.session() as db:
            row = await self._held(db, recording_id)
            if row is None:
                return
            self._queued(await recordings.move(db, row, "ERRORED" if failed else "UPLOADED",
                                               **fields))
        self.announce(row)

    async def _held(self, db: Any, recording_id: str) -> Recording | None:
        """The recording's row while it is not over (None when it is), if this node still
        holds its claim (ClaimLost when another node took it)."""
        row = await db.get(Recording, recording_id)
        assert row is not None
        if row.status in rules.FINAL:
            return None
        if not self.claims.holds(row):
            raise ClaimLost(recording_id)
        return row

    async def _fail(self, recording_id: str, error: str) -> None:
        """ERRORED; a carried-on recording keeps what its earlier recorders wrote (the
        parts gathered before this recorder failed)."""
        try:
            async with self.database.session() as db:
                row = await db.get(Recording, recording_id)
            if row is None:
                return
            parts = carry.parts_of(self._output_dir(row))
            kept = await asyncio.to_thread(carry.joined, [], parts) if parts else []
            await self._end_errored(recording_id, kept, error)
        except Exception:
            log.exception("marking recording %s ERRORED failed", recording_id)

    def _queued(self, deliveries: int) -> None:
        if deliveries:
            self.on_commit()

    def _output_dir(self, row: Recording) -> Path:
        return self.settings.data_dir / "recordings" / "work" / row.id

    def _earlier_dir(self, row: Recording) -> Path:
        """Where the recording's last recorder wrote (on another node, maybe)."""
        work_dir = row.config.get("work_dir")
        return Path(work_dir) if work_dir else self._output_dir(row)

    def _storage(self, row: Recording) -> delivery.Destination:
        return delivery.Destination(
            storage_for(row.config.get("storage_config"), local=self.local_storage),
            timedelta(seconds=self.settings.link_ttl_secs), fallback=self.local_storage)
