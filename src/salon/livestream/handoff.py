"""Leaving a meeting's livestream to another node while its meeting goes on
(docs/cluster.md "Failover"): the part of `salon.livestream.runner` that, when an encoder
here ends because this node hands the meeting over, lets go of the livestream session's
claim instead of ending it. A mixin of `LivestreamRunner`.

Two occasions, both in a cluster only:

- this node hands a meeting's room over while its session goes on — drained with
  SIGTERM, its lease lost, the room sent to its family's node (`hand_off`, told by
  `salon.live.livestreams`);
- this node stops (`hand_off_at_stop`, set by the app before the drain): every encoder of
  a meeting whose session goes on, including meetings other nodes run (their node takes
  the livestream over at its sweep);
- an encoder here of a meeting another node runs loses its connection while the meeting
  had not ended (`RecordingOutcome.lost_meeting`: that node died or handed it over).

The session stays LIVE with no claimer, an orphaned claim (`salon.cluster.claims`) that
the node running the meeting takes over (`LivestreamRunner.take_over`), starting its
encoder again there.
"""

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from salon.cluster.claims import JobClaims
from salon.recording.spec import RecordingOutcome
from salon.store.models import Livestream, LivestreamSession, Session

log = logging.getLogger("salon.livestream")


class HandOff:
    """Letting go of livestream sessions for the node that carries their meeting on."""

    claims: JobClaims
    #: Sessions whose meeting's room this node handed over (`hand_off`).
    handed_off: set[str]
    #: Set when this node stops in a cluster (see the module's docstring).
    hand_off_at_stop: bool
    _meeting_of: dict[str, str]

    if TYPE_CHECKING:
        def wake(self) -> None: ...

    def hand_off(self, meeting_id: str) -> None:
        """This node handed the meeting's room over (its session goes on elsewhere): when
        an encoder of that meeting's livestream here ends (its peer was closed with 4013)
        the livestream is not ended but its claim let go (`let_go`), for the node that
        carries the session on to take over (`take_over`)."""
        self.handed_off.update(session_id for session_id, meeting in self._meeting_of.items()
                               if meeting == meeting_id)

    async def hands_off(self, db: Any, livestream: Livestream, session: LivestreamSession,
                        outcome: RecordingOutcome) -> bool:
        """Whether the encoder that just ended leaves its livestream to another node:
        its meeting's room was handed over, or — while the meeting's session goes on —
        this node stops in a cluster, or the encoder lost its connection to the meeting
        (the meeting's node died or handed it over); and nobody asked for the
        livestream to stop."""
        if session.stop_reason:
            return False
        if session.id in self.handed_off:
            return True
        if not (self.hand_off_at_stop or outcome.lost_meeting) or not self.claims.clustered \
                or livestream.meeting_id is None or session.session_id is None:
            return False
        return await db.scalar(select(Session.status).where(
            Session.id == session.session_id)) == "LIVE"

    async def let_go(self, db: Any, session: LivestreamSession) -> None:
        """The meeting's room was handed over and its session goes on elsewhere: a LIVE
        session stays LIVE with no claimer (`claimed_by` null, `claimed_at` kept: an
        orphaned claim, docs/cluster.md "Jobs"), which the node carrying the session on
        takes over; an INVOKED one is queued again."""
        stamp: dict[str, Any] = {"claimed_by": None}
        if session.status == "INVOKED":
            stamp["claimed_at"] = None
        await db.execute(update(LivestreamSession).where(
            LivestreamSession.id == session.id,
            LivestreamSession.claimed_by == self.claims.node_id,
            LivestreamSession.status == session.status).values(**stamp))
        await db.commit()
        log.warning("livestream session %s: its meeting was handed over; its encoder here "
                    "stopped and the node that carries the session on takes it over",
                    session.id)
        self.wake()

