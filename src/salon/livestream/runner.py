"""The livestream runner: claims queued meeting livestream sessions, runs each one's
encoder (the recorder, `salon.recording`, with live outputs: one encode feeding HLS and
RTMP), and moves it INVOKED → LIVE → IDLE, or ERRORED.

The encoder is a hidden recorder participant in a spawned process, exactly as a
recording's (`salon.recording.process.RecorderProcess`): composing and encoding never
share the server's event loop. The runner only follows rows and the process.

In a cluster each session is claimed by one node (`salon.cluster.claims`); every few
heartbeats each node `recover`s the sessions of nodes that are gone: queued ones queue
again, LIVE ones end ERRORED (their encoder and playlist were on that node) — except a
meeting's LIVE one while its meeting's session is still LIVE: the node that carries that
session on after a failover `take_over`s it and starts its encoder again
(docs/cluster.md "Jobs"); when only the encoder's node died, that is the node that runs
the meeting all along, at its sweep. Both moves are conditional UPDATEs on the dead node's
claim, so exactly one of them happens.

A node that hands a meeting's room over while it goes on (drained, lease lost, sent to
its family's node) does not end the meeting's livestream when its encoder loses the
room: it lets go of the claim (`hand_off`), and the node that carries the session on
takes it over as after a failover (`salon.livestream.handoff`). A node that stops in a
cluster (`hand_off_at_stop`) does the same with every encoder of a meeting whose session
goes on, including those of meetings other nodes run: their node takes the livestream
over at its sweep. A stopping node (`JobClaims.draining`) starts no encoder and takes
no livestream over: its websockets close before its rooms are handed over, so a session
let go then would otherwise be taken back by the very node that is leaving.
"""

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, and_, not_, or_, select, true

from salon.cluster.claims import ClaimLost, JobClaims
from salon.cluster.registry import new_node_id
from salon.core import livestreams as rules
from salon.core.clock import utcnow
from salon.deadline import within
from salon.livestream import playback
from salon.livestream.handoff import HandOff
from salon.livestream.outputs import PLAYLIST, segment_prefix
from salon.livestream.renditions import folder
from salon.recording.process import ENGINE, RecorderProcess
from salon.recording.spec import LiveSpec, RecordingOutcome, RecordingSpec, VideoSpec
from salon.recording.spec_config import drawable_size
from salon.services import livestreams, recordings
from salon.services.livestreams import Urls
from salon.services.participant_tokens import TokenSigner
from salon.store.database import Database, Outages
from salon.store.models import Livestream, LivestreamSession, Session

log = logging.getLogger("salon.livestream")

TICK_SECS = 0.25
POLL_SECS = 2.0
#: Livestream encodes run at this frame rate (viewers; half a recording's CPU).
FPS = 25


@dataclass(frozen=True)
class RunnerSettings:
    max_concurrent: int
    #: `module:function` of the encoder; empty: the media engine.
    encoder: str
    data_dir: Path
    gateway_url: str
    urls: Urls


def hls_dir(data_dir: Path, livestream_id: str) -> Path:
    """Where a livestream's playlist and segments are (served at `/live/{id}/…`)."""
    return data_dir / "livestreams" / livestream_id


def _awaiting_adoption() -> ColumnElement[bool]:
    """A meeting's LIVE livestream session whose meeting's session is still LIVE: if its
    node died, the node that carries the session on takes it over (`take_over`); the
    sweep ends it only once that session is over (nobody came back: the cluster's sweep
    of orphaned sessions ends it)."""
    return and_(LivestreamSession.status == "LIVE", Livestream.meeting_id.is_not(None),
                LivestreamSession.session_id.is_not(None),
                LivestreamSession.session_id.in_(
                    select(Session.id).where(Session.status == "LIVE")))


def _playable(spec: RecordingSpec) -> bool:
    """LIVE means viewers can play it: the playlist lists its first segment (the
    source's own, under a master playlist when there are lower qualities)."""
    assert spec.live is not None and spec.live.hls_dir is not None
    if spec.live.qualities:
        return (spec.live.hls_dir / folder(spec.video.height) / PLAYLIST).exists()
    return (spec.live.hls_dir / PLAYLIST).exists()


class LivestreamRunner(HandOff):
    def __init__(self, database: Database, settings: RunnerSettings, signer: TokenSigner,
                 on_commit: Callable[[], None] | None = None,
                 claims: JobClaims | None = None) -> None:
        self.database = database
        #: Which node this is, and which others are alive (one node: a fresh id).
        self.claims = claims or JobClaims(new_node_id())
        self.settings = settings
        self.signer = signer
        self.on_commit = on_commit or (lambda: None)
        #: Tells the meeting's peers about a status change (`livestream.updated`).
        self.announce: Callable[[Livestream, LivestreamSession], None] = lambda ls, s: None
        self.running: dict[str, asyncio.Task[None]] = {}
        #: The sessions this node's RTMP ingest publishes (set by `service.start`).
        self.ingesting: Callable[[], set[str]] = set
        #: Whether this node runs the meeting's session (meeting id, session id): set by
        #: `salon.live.livestreams`; the sweep takes such a meeting's LIVE livestream over.
        self.carries: Callable[[str, str], bool] = lambda meeting_id, session_id: False
        #: Sessions whose meeting's room this node handed over (`hand_off`): their
        #: encoder's end lets go of the claim instead of ending the livestream.
        self.handed_off: set[str] = set()
        #: Set when this node stops in a cluster: every meeting livestream whose meeting's
        #: session goes on is let go rather than ended.
        self.hand_off_at_stop = False
        #: The meeting of each running session's livestream (known once its spec is).
        self._meeting_of: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        #: Set by `stop`: the claim loop ends even if its cancellation was lost (Python
        #: 3.11's `wait_for` can swallow one that lands as the wake-up completes).
        self._stopping = False

    async def start(self) -> None:
        await self.recover(starting=True)
        self._loop = asyncio.create_task(self._claim_forever(), name="livestream runner")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    async def recover(self, starting: bool = False) -> None:
        """What a crash or a dead node left (sessions whose claimer is gone:
        `JobClaims.orphaned`): LIVE sessions end ERRORED, and so do an RTMP ingest's
        INVOKED ones (its encoder's connection is gone); a meeting's INVOKED ones requeue.
        The ingest's sessions are claimed by the node whose ingest took the encoder."""
        orphaned = await self.claims.orphaned(LivestreamSession, LivestreamSession.id,
                                              set(self.running) | self.ingesting(),
                                              starting=starting)
        if orphaned is None:
            return
        async with self.database.session() as db:
            meeting_streams = select(Livestream.id).where(Livestream.meeting_id.is_not(None))
            requeued = await self.claims.release(
                db, LivestreamSession, orphaned, LivestreamSession.status == "INVOKED",
                LivestreamSession.livestream_id.in_(meeting_streams))
            candidates = list(await db.execute(
                select(LivestreamSession, Livestream)
                .join(Livestream, Livestream.id == LivestreamSession.livestream_id)
                .where(orphaned, or_(LivestreamSession.status == "LIVE",
                                     and_(LivestreamSession.status == "INVOKED",
                                          Livestream.meeting_id.is_(None))),
                       # one node: nobody carries a session on (the crashed node's
                       # sessions are closed at its start)
                       not_(_awaiting_adoption()) if self.claims.clustered else true())))
            stale = []
            for session, livestream in candidates:
                # Taken first, on the condition that the dead node still holds it: a node
                # carrying the meeting on may be taking it over at this very moment.
                if await self.claims.claim_from(db, LivestreamSession, LivestreamSession.id,
                                                session.id, orphaned,
                                                LivestreamSession.status == session.status):
                    await db.refresh(session)
                    await livestreams.move(db, livestream, session, "ERRORED",
                                           self.settings.urls,
                                           err_message="the server stopped while streaming",
                                           stopped_time=utcnow())
                    stale.append(session)
            carried = [] if not self.claims.clustered else list(await db.execute(
                select(LivestreamSession.id, Livestream.meeting_id,
                       LivestreamSession.session_id)
                .join(Livestream, Livestream.id == LivestreamSession.livestream_id)
                .where(orphaned, _awaiting_adoption())))
        if requeued:
            log.warning("queued again %d livestream session(s) whose node is gone", requeued)
            self.wake()
        if stale:
            self.on_commit()
        # Only its encoder's node died, not the meeting's: this node runs the meeting and
        # carries its livestream on (nobody adopts the session, so nobody else would).
        for session_id, meeting_id, meeting_session in carried:
            if self.carries(meeting_id, meeting_session):
                await self.take_over(session_id)

    async def take_over(self, session_id: str) -> bool:
        """Carry on a meeting's LIVE livestream session whose node died, here, where its
        meeting's session is now carried on (`salon.live.livestreams`): claim it from the
        dead node — a conditional UPDATE, only while its claimer is gone and it is still
        LIVE, so a sweeping node cannot end it meanwhile and two nodes cannot both take
        it — and start its encoder again (a new playlist here; RTMP outputs reconnect).
        Whether this node took it; without a free encoder it does not.

        The meeting's peers are told here (`livestream.updated` with the new
        `playback_url`), whichever caller won the claim: the adoption hook and this
        node's own sweep race for it, and a peer must hear of it either way."""
        if session_id in self.running or len(self.running) >= self.settings.max_concurrent:
            return False
        if self.claims.draining:
            return False  # stopping: the node that takes the meeting over carries it on
        orphaned = await self.claims.orphaned(LivestreamSession, LivestreamSession.id,
                                              set(self.running) | self.ingesting(),
                                              starting=False)
        if orphaned is None:
            return False
        async with self.database.session() as db:
            won = await self.claims.claim_from(db, LivestreamSession, LivestreamSession.id,
                                               session_id, orphaned,
                                               LivestreamSession.status == "LIVE")
            if won:
                livestream, session = await self.rows(db, session_id)
        if won:
            log.warning("livestream session %s: its node is gone; its encoder starts "
                        "again here", session_id)
            self._start(session_id)
            self.announce(livestream, session)  # its new playback_url
        return won

    async def _claim_forever(self) -> None:
        while not self._stopping:
            try:
                if self.claims.due("livestreams"):
                    await self.recover()
                await self._claim()
            except Exception:
                log.exception("claiming livestreams failed")
            with contextlib.suppress(TimeoutError):
                await within(self._wake.wait(), POLL_SECS)
            self._wake.clear()

    async def _claim(self) -> None:
        free = self.settings.max_concurrent - len(self.running)
        if free <= 0 or self.claims.draining:
            return  # (a stopping node starts no encoder: another node takes the queue)
        async with self.database.session() as db:
            won = await self.claims.claim_queued(
                db, LivestreamSession, LivestreamSession.id,
                select(LivestreamSession.id)
                .join(Livestream, Livestream.id == LivestreamSession.livestream_id)
                .where(LivestreamSession.status == "INVOKED",
                       LivestreamSession.claimed_at.is_(None),
                       Livestream.meeting_id.is_not(None))
                .order_by(LivestreamSession.invoked_time).limit(free),
                LivestreamSession.status == "INVOKED")
        for session_id in won:
            self._start(session_id)

    def _start(self, session_id: str) -> None:
        task = asyncio.create_task(self._run(session_id), name=f"livestream {session_id}")
        self.running[session_id] = task
        task.add_done_callback(lambda _, sid=session_id: self._done(sid))

    def _done(self, session_id: str) -> None:
        self.running.pop(session_id, None)
        self.handed_off.discard(session_id)
        self._meeting_of.pop(session_id, None)
        self.wake()

    async def _run(self, session_id: str) -> None:
        handle: RecorderProcess | None = None
        try:
            spec = await self._spec(session_id)
            handle = RecorderProcess.start(spec, self.settings.encoder or ENGINE)
            outcome = await self._follow(session_id, handle)
            await self._finish(session_id, outcome)
        except ClaimLost:
            log.warning("livestream session %s was taken over by another node; its "
                        "encoder here stops", session_id)
            if handle is not None:
                handle.kill()
        except asyncio.CancelledError:
            if handle is not None:  # the server is stopping: end the playlist cleanly
                handle.control.stop("INTERNAL_ERROR")
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._wait_and_finish(session_id, handle))
            raise
        except Exception as error:
            log.exception("livestream session %s failed", session_id)
            if handle is not None:
                handle.kill()
            await self._finish(session_id, RecordingOutcome(
                stop_reason="INTERNAL_ERROR", error=f"{type(error).__name__}: {error}"))

    async def _wait_and_finish(self, session_id: str, handle: RecorderProcess) -> None:
        """The server stops cleanly: the encoder was told to stop, so it ends stopped."""
        for _ in range(40):
            outcome = handle.poll()
            if outcome is not None:
                await self._finish(session_id, outcome, stopped=True)
                return
            await asyncio.sleep(TICK_SECS)
        handle.kill()

    async def rows(self, db: object, session_id: str) -> tuple[Livestream, LivestreamSession]:
        session = await db.get(LivestreamSession, session_id)  # type: ignore[attr-defined]
        livestream = await db.get(Livestream, session.livestream_id)  # type: ignore[attr-defined]
        return livestream, session

    async def _spec(self, session_id: str) -> RecordingSpec:
        async with self.database.session() as db:
            livestream, session = await self.rows(db, session_id)
            assert livestream.meeting_id is not None
            self._meeting_of[session_id] = livestream.meeting_id
            participant = await recordings.hidden_recorder(
                db, livestream.app_id, livestream.meeting_id,
                f"livestreamer-{livestream.id}", "Livestream")
            token = self.signer.mint(participant)
            # again: making the recorder preset may roll back (another encoder of the
            # app made it meanwhile), expiring both rows, read below this session
            livestream, session = await self.rows(db, session_id)
        directory = hls_dir(self.settings.data_dir, livestream.id)
        # A new session starts a new playlist: what a previous one left is thrown away
        # (also by an encoder taking a session over: its playlist goes on from higher
        # numbers, after a discontinuity).
        await asyncio.to_thread(shutil.rmtree, directory, True)
        work = self.settings.data_dir / "livestreams" / "work" / session.id
        config = session.config
        first = 0
        if session.status == "LIVE":  # taken over: the playlist goes on, numbers too
            since = session.started_time or session.invoked_time
            first = rules.first_segment_after((utcnow() - since).total_seconds())
            takeovers = await self._count_takeover(session_id)
            await asyncio.to_thread(playback.write_takeovers, directory, takeovers)
        return RecordingSpec(
            recording_id=session.id, kind="composite", gateway_url=self.settings.gateway_url,
            token=token, output_dir=work, file_name="composite",
            video=VideoSpec(width=drawable_size(config["width"]),
                            height=drawable_size(config["height"]), fps=FPS),
            live=LiveSpec(hls_dir=directory, hls_time=rules.HLS_TIME,
                          hls_list_size=rules.HLS_LIST_SIZE,
                          rtmp_urls=tuple(config.get("rtmp_urls") or ()),
                          qualities=tuple(config.get("qualities") or ()),
                          first_segment=first,
                          segment_prefix=segment_prefix(session.id)))

    async def _count_takeover(self, session_id: str) -> int:
        """One more encoder has taken the session over (kept in its `config`, which
        only the claim's holder writes): how many have, for the playlist's
        discontinuity sequence (`rules.with_discontinuity_sequence`)."""
        async with self.database.session() as db:
            session = await db.get(LivestreamSession, session_id)
            config = dict(session.config)  # type: ignore[union-attr]
            config["takeovers"] = int(config.get("takeovers") or 0) + 1
            session.config = config  # type: ignore[union-attr]
            await db.commit()
            return config["takeovers"]

    async def _follow(self, session_id: str, handle: RecorderProcess) -> RecordingOutcome:
        control = handle.control
        outages = Outages(f"livestream session {session_id}")
        while (outcome := handle.poll()) is None:
            with outages:  # the database down for a moment: the encoder goes on
                async with self.database.session() as db:
                    livestream, session = await self.rows(db, session_id)
                    if not self.claims.holds(session):
                        raise ClaimLost(session_id)
                    if session.status == "INVOKED" and control.is_started() and \
                            await asyncio.to_thread(_playable, handle.spec):
                        self._queued(await livestreams.move(
                            db, livestream, session, "LIVE", self.settings.urls,
                            started_time=utcnow()))
                        self.announce(livestream, session)
                    if session.stop_reason:
                        control.stop("ALL_PEERS_LEFT"
                                     if session.stop_reason == "ALL_PEERS_LEFT"
                                     else "API_CALL")
            await asyncio.sleep(TICK_SECS)
        return outcome

    async def _finish(self, session_id: str, outcome: RecordingOutcome,
                      stopped: bool = False) -> None:
        """IDLE, or ERRORED if the encoder failed or ended by itself before streaming; a
        stop (`stop_reason`, or `stopped`: the server's) is IDLE even before LIVE."""
        async with self.database.session() as db:
            livestream, session = await self.rows(db, session_id)
            if session.status not in rules.ACTIVE or not self.claims.holds(session):
                return  # over, or another node's now (it took the claim over)
            if await self.hands_off(db, livestream, session, outcome):
                await self.let_go(db, session)
                return
            now = utcnow()
            failed = outcome.error is not None or (session.started_time is None
                                                   and not session.stop_reason
                                                   and not stopped)
            fields = {"stopped_time": now, "ingest_seconds": round(outcome.duration_secs, 3),
                      "stop_reason": session.stop_reason or outcome.stop_reason}
            if failed:
                fields["err_message"] = outcome.error or "the encoder ended before streaming"
            self._queued(await livestreams.move(db, livestream, session,
                                                "ERRORED" if failed else "IDLE",
                                                self.settings.urls, **fields))
            self.announce(livestream, session)
        work = self.settings.data_dir / "livestreams" / "work" / session_id
        await asyncio.to_thread(shutil.rmtree, work, True)

    def _queued(self, deliveries: int) -> None:
        if deliveries:
            self.on_commit()
