"""What becomes of the recordings of a node that is gone (this process's predecessor, or
a dead node of the cluster): the part of `salon.recording.scheduler` that sweeps them,
carries them on with their meeting or ends them ERRORED keeping what was recorded
(docs/cluster.md "Recordings go on"). A mixin of `RecordingScheduler`, which provides
the attributes and the helpers declared below."""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from salon.cluster.claims import JobClaims
from salon.core import recordings as rules
from salon.core.clock import utcnow
from salon.recording import carry, delivery
from salon.recording.spec import OutputFile
from salon.services import recordings
from salon.store.database import Database
from salon.store.models import Recording, Session

log = logging.getLogger("salon.recording")

#: The recording statuses in which a recorder runs, or ran until its node stopped.
RECORDER_ACTIVE = ("RECORDING", "PAUSED", "UPLOADING")
#: The statuses in which a recording goes on with its meeting when its recorder's node dies.
CARRIED_ON = ("RECORDING", "PAUSED")


class Recovery:
    """Sweeping, carrying on and ending the recordings of gone nodes."""

    database: Database
    claims: JobClaims
    announce: Callable[[Recording], None]
    live_session: Callable[[str], str | None]
    running: dict[str, asyncio.Task[None]]
    starting: set[str]
    ending: dict[str, asyncio.Task[None]]

    if TYPE_CHECKING:
        def wake(self) -> None: ...
        def _launch(self, recording_id: str, carried: bool = False) -> None: ...
        def _queued(self, deliveries: int) -> None: ...
        def _output_dir(self, row: Recording) -> Path: ...
        def _earlier_dir(self, row: Recording) -> Path: ...
        def _storage(self, row: Recording) -> delivery.Destination: ...

    def _busy(self) -> set[str]:
        """The recordings this node is doing something with: not orphaned."""
        return set(self.running) | self.starting | set(self.ending)

    async def recover(self, starting: bool = False) -> None:
        """Recordings whose claimer is gone (this process's own predecessor at start, or
        a dead node: `JobClaims.orphaned`): picked-up INVOKED ones go back to the queue;
        RECORDING or PAUSED ones of a meeting this node runs go on here (`_carry_on`),
        those of a session still LIVE elsewhere (a NULL `session_id`: the meeting's LIVE
        session, if any) are left to the node that takes it over (a cluster only), and
        the others end ERRORED (INTERNAL_ERROR) keeping what their recorders left that
        this node can read: each in a task of its own (`ending`), since storing that may
        take a while."""
        orphaned = await self.claims.orphaned(Recording, Recording.id, self._busy(),
                                              starting=starting)
        if orphaned is None:
            return
        to_end = []
        async with self.database.session() as db:
            requeued = await self.claims.release(db, Recording, orphaned,
                                                 Recording.status == "INVOKED")
            stale = list(await db.scalars(select(Recording).where(
                Recording.status.in_(RECORDER_ACTIVE), orphaned)))
            for row in stale:
                if row.id in self._busy():
                    continue
                if row.status in CARRIED_ON:
                    session = self.live_session(row.meeting_id)
                    if session is not None and row.session_id in (None, session):
                        await self._carry_on(db, row)
                        continue
                    if self.claims.clustered and await is_live(db, row):
                        continue  # whichever node takes the meeting over carries it on
                to_end.append(row)
        if requeued:
            log.warning("queued again %d recording(s) whose node is gone", requeued)
            self.wake()
        for row in to_end:
            if row.id not in self._busy():
                task = asyncio.create_task(self._end_orphan(row),
                                           name=f"ending recording {row.id}")
                self.ending[row.id] = task
                task.add_done_callback(lambda _, rid=row.id: self.ending.pop(rid, None))

    async def _end_orphan(self, row: Recording) -> None:
        """ERRORED, with what its recorders left; nothing if another node took the claim
        first (it carries the recording on, or ends it itself). The files are gathered,
        joined and stored with no database session open: the claim, taken over first,
        keeps other nodes off the row meanwhile."""
        try:
            async with self.database.session() as db:
                if not await self.claims.take_over(db, Recording, Recording.id, row.id,
                                                   row.claimed_by, row.claimed_at,
                                                   Recording.status.in_(RECORDER_ACTIVE)):
                    return
                row = await db.get(Recording, row.id, populate_existing=True) or row
            kept = await asyncio.to_thread(carry.left_behind, self._earlier_dir(row),
                                           self._output_dir(row))
            if await self._end_errored(row.id, kept, "the server stopped while recording",
                                       statuses=RECORDER_ACTIVE):
                log.warning("ended recording %s, left unfinished by an unclean stop",
                            row.id)
        except Exception:
            log.exception("ending recording %s, left unfinished by its node, failed", row.id)

    async def _end_errored(self, recording_id: str, kept: list[OutputFile], error: str,
                           statuses: tuple[str, ...] | None = None) -> bool:
        """Store `kept` and move the recording ERRORED (INTERNAL_ERROR), if this node
        still holds its claim and it is not over (or is in one of `statuses`)."""
        async with self.database.session() as db:
            row = await db.get(Recording, recording_id)
        if row is None or row.status in rules.FINAL or not self.claims.holds(row) \
                or (statuses is not None and row.status not in statuses):
            return False
        fields = await delivery.store(row, kept, await asyncio.to_thread(self._storage, row))
        if storage_error := fields.pop("storage_error", None):
            error = f"{error}; {storage_error}"
        fields["recording_duration"] = int(max(
            (file.duration_secs for file in kept), default=0)) or None
        async with self.database.session() as db:
            row = await db.get(Recording, recording_id)
            if row is None or row.status in rules.FINAL or not self.claims.holds(row):
                return False
            await recordings.retire_recorder(db, row)
            self._queued(await recordings.move(
                db, row, "ERRORED", stop_reason={"reason": "INTERNAL_ERROR"},
                stopped_time=row.stopped_time or utcnow(), error=error, **fields))
        self.announce(row)
        return True

    async def carry_on(self, meeting_id: str, session_id: str) -> int:
        """This node now runs `session_id`, carried on after its node died: its
        meeting's RECORDING or PAUSED recordings whose claimer is gone go on here.
        Returns how many are still claimed by another node: one the registry still
        lists (a dead node drops out within three heartbeats: call again until none
        is; a live one, say draining, finishes its recording itself), or one that took
        them over first."""
        orphaned = await self.claims.orphaned(Recording, Recording.id, self._busy(),
                                              starting=False)
        ours = select(Recording).where(
            Recording.meeting_id == meeting_id, Recording.status.in_(CARRIED_ON),
            or_(Recording.session_id.is_(None), Recording.session_id == session_id))
        async with self.database.session() as db:
            if orphaned is not None:
                for row in list(await db.scalars(ours.where(orphaned))):
                    await self._carry_on(db, row)
            waiting = list(await db.scalars(ours.where(
                Recording.claimed_by != self.claims.node_id)))
        return len([row for row in waiting if row.id not in self._busy()])

    async def _carry_on(self, db: Any, row: Recording) -> bool:
        """Take the claim of `row` over from its gone claimer and record on here."""
        if row.id in self._busy():
            return False  # this node carries it on already (or is about to)
        if self.claims.draining:
            return False  # stopping: the node that takes the meeting over carries it on
        self.starting.add(row.id)  # before any await: one caller of this node goes on
        try:
            previous = row.claimed_by
            if not await self.claims.take_over(db, Recording, Recording.id, row.id,
                                               previous, row.claimed_at,
                                               Recording.status.in_(CARRIED_ON)):
                return False  # a sweep ended it, or another node carries it on
            await db.refresh(row)
            log.warning("recording %s of meeting %s goes on here: %s", row.id,
                        row.meeting_id, f"its recorder's node {previous} is gone"
                        if previous else "its recorder's node handed it over")
            self.announce(row)
            self._launch(row.id, carried=True)
        finally:
            self.starting.discard(row.id)
        return True


async def is_live(db: Any, row: Recording) -> bool:
    """Whether the recording's session is still LIVE (a node may carry it on); without
    a `session_id`, whether its meeting has a LIVE session."""
    if row.session_id is not None:
        return await db.scalar(select(Session.status)
                               .where(Session.id == row.session_id)) == "LIVE"
    return await db.scalar(select(Session.id).where(
        Session.meeting_id == row.meeting_id, Session.status == "LIVE").limit(1)) is not None
