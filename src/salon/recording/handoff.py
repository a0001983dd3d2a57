"""Handing a recording over to another node while its meeting goes on (docs/cluster.md
"Recordings go on"): the part of `salon.recording.scheduler` that, instead of finishing a
recording, stops its recorder here and lets go of its claim for the node that runs (or
will run) the meeting to carry it on. A mixin of `RecordingScheduler`.

Two occasions, both in a cluster only (one node has nobody to hand anything to):

- this node hands a meeting's room over while its session goes on — drained with
  SIGTERM, its lease lost, the room sent to its family's node (`hand_off`, told by
  `salon.live.recordings`): the recorders of that meeting stop at once;
- this node stops (`hand_off_at_stop`, set by the app before the drain): every recorder
  it runs stops with it, including those of meetings other nodes run;
- a recorder here of a meeting another node runs loses its connection while the meeting
  had not ended (`RecordingOutcome.lost_meeting`): that node died or handed the room
  over, and whichever node carries the session on carries the recording on.

A stopped recorder closes its files cleanly, so what it wrote is a complete part; it
stays in this node's work directory (`config.work_dir`), where the node that carries the
recording on gathers it (`salon.recording.carry`) and joins it with what comes after.
The row stays RECORDING or PAUSED with no claimer — `claimed_by` null, `claimed_at`
kept: an orphaned claim (`salon.cluster.claims`), which the carrier takes over with the
same compare-and-set as a dead node's, at its adoption hook or its next sweep. A
recording that was still INVOKED is queued again. A recording whose session is over, or
that ended for a reason of its own (stopped over the API, `MAX_SECONDS`, a failed
recorder) is finished here as before.
"""

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from salon.cluster.claims import JobClaims
from salon.recording.recovery import CARRIED_ON, is_live
from salon.recording.spec import RecordingOutcome
from salon.store.models import Recording

if TYPE_CHECKING:
    from salon.recording.process import RecorderProcess

log = logging.getLogger("salon.recording")


class HandOff:
    """Stopping recorders without finishing their recordings, for another node."""

    claims: JobClaims
    #: Set when this node stops in a cluster: every recording it runs whose session goes
    #: on is handed over rather than finished.
    hand_off_at_stop: bool
    #: Recordings of meetings this node handed over (`hand_off`).
    handed_off: set[str]
    #: Each running recording's meeting and recorder (known once its recorder started).
    meeting_of: dict[str, str]
    handles: dict[str, "RecorderProcess"]

    if TYPE_CHECKING:
        def wake(self) -> None: ...

    def hand_off(self, meeting_id: str) -> None:
        """This node handed the meeting's room over and its session goes on elsewhere:
        the meeting's recorders here stop now, and their recordings are left to the node
        that carries the session on (`let_go`, when each recorder has ended)."""
        for recording_id, meeting in list(self.meeting_of.items()):
            if meeting == meeting_id:
                self.handed_off.add(recording_id)
                handle = self.handles.get(recording_id)
                if handle is not None:
                    handle.control.stop("ALL_PEERS_LEFT")

    async def hands_off(self, db: Any, row: Recording, outcome: RecordingOutcome) -> bool:
        """Whether the recorder that just ended leaves `row` for another node rather than
        finishing it: handed over (or this node is stopping, or the recorder lost its
        meeting's connection while the meeting had not ended: the meeting's node died or
        handed it over), ended by that and not for a reason of its own, and its session
        still LIVE."""
        if not (row.id in self.handed_off or self.hand_off_at_stop
                or outcome.lost_meeting) or not self.claims.clustered:
            return False
        if outcome.error or outcome.stop_reason == "MAX_SECONDS" or row.stop_reason:
            return False
        if row.status not in ("INVOKED", *CARRIED_ON):
            return False
        return await is_live(db, row)

    async def let_go(self, db: Any, row: Recording) -> None:
        """Leave `row` to the node that carries its meeting on: a RECORDING or PAUSED
        one keeps its status and `claimed_at`, with no claimer; an INVOKED one is queued
        again. Only while this node still holds it."""
        stamp: dict[str, Any] = {"claimed_by": None}
        if row.status == "INVOKED":
            stamp["claimed_at"] = None
        await db.execute(update(Recording).where(
            Recording.id == row.id, Recording.claimed_by == self.claims.node_id,
            Recording.status == row.status).values(**stamp))
        await db.commit()
        log.warning("recording %s of meeting %s: its meeting goes on on another node; its "
                    "recorder here stopped and what it wrote is left for the node that "
                    "carries the recording on", row.id, row.meeting_id)
        self.wake()
