"""Recordings meet live rooms: peers hear of each status change (`recording.updated`),
a starting session gets its meeting's active recordings (and `record_on_start`), an
ending session stops them (ALL_PEERS_LEFT), and a session carried on after its node died
(cluster mode) carries its recordings on too (`RecordingScheduler.carry_on`). A room this
node hands over while its session goes on (drained, lease lost, sent to its family's
node) does not end its recordings: their recorders here stop and let go of the claims
(`RecordingScheduler.hand_off`), and the node that carries the session on carries them
on as after a failover."""

import asyncio
import logging
import time
from typing import Any

from salon.core.clock import isoformat
from salon.core.errors import SalonError
from salon.core.recordings import StartRecording
from salon.core.recordings import caller as make_caller
from salon.core.room import Record
from salon.core.room.recordings import recordings_updated
from salon.live.failover import Orphan
from salon.live.host import RoomHost
from salon.live.rooms import Rooms
from salon.recording.scheduler import RecordingScheduler
from salon.services import recordings
from salon.store.models import Meeting, Recording

log = logging.getLogger("salon.recording")

#: How long, in sweeps, a node that carried a session on keeps trying to take over its
#: recordings: their claimer must first drop out of the registry (three heartbeats, one
#: sweep), and the periodic sweep (`RecordingScheduler.recover`) catches any later.
CARRY_ON_SWEEPS = 2


def view(row: Recording) -> dict[str, Any]:
    """A recording as peers see it."""
    return {
        "id": row.id,
        "type": row.kind,
        "status": row.status,
        "invoked_time": isoformat(row.invoked_time),
        "started_time": isoformat(row.started_time) if row.started_time else None,
        "stop_reason": (row.stop_reason or {}).get("reason"),
    }


class LiveRecordings:
    """Glue between the scheduler and the rooms of this process."""

    def __init__(self, rooms: Rooms, scheduler: RecordingScheduler) -> None:
        self.rooms = rooms
        self.scheduler = scheduler
        self._tasks: set[asyncio.Task[None]] = set()
        scheduler.announce = self.announce
        rooms.session_listeners.append(self.session_changed)
        rooms.adoption_listeners.append(self.adopted)
        rooms.handover_listeners.append(self.handed_over)
        scheduler.live_session = self.live_session
        rooms.updates["recording.updated"] = self._updated

    def announce(self, row: Recording, by_peer_id: str | None = None) -> None:
        """Tell the meeting's peers, on whichever node runs it. `by_peer_id`: the peer
        whose request made this change; None for the API, the server and the recorder
        (the row keeps the last peer that asked, not who made this change)."""
        self.rooms.update(row.meeting_id, "recording.updated",
                          {"recording": view(row), "by_peer_id": by_peer_id})

    @staticmethod
    def _updated(host: RoomHost, data: dict[str, Any]) -> None:
        if host.room.is_live:
            host.run(lambda: recordings_updated(host.room, [data["recording"]],
                                                data["by_peer_id"]))

    def changed(self, row: Recording) -> None:
        """A caller changed a recording: peers, webhooks and the scheduler hear of it."""
        self.scheduler.on_commit()
        self.announce(row, row.by_peer_id)
        self.scheduler.wake()

    def session_changed(self, host: RoomHost, record: Record) -> None:
        if record.kind == Record.SESSION_STARTED:
            self._spawn(self._session_started(host, record.data["session_id"]))
        elif record.kind == Record.SESSION_ENDED:
            host.room.recordings.clear()
            self._spawn(self._session_ended(host.meeting_id))

    def live_session(self, meeting_id: str) -> str | None:
        """The session this node runs for `meeting_id`, if live here."""
        host = self.rooms.hosts.get(meeting_id)
        if host is None or not host.room.is_live:
            return None
        return host.room.session_id

    def handed_over(self, host: RoomHost) -> None:
        """This node handed the meeting's room over, its session going on elsewhere: its
        recordings go on there too."""
        if host.room.session_id:
            self.scheduler.hand_off(host.meeting_id)

    def adopted(self, host: RoomHost, orphan: Orphan) -> None:
        """This node carries `orphan` on: so do its recordings."""
        self._spawn(self._carry_on(host.meeting_id, orphan.session_id))

    async def _carry_on(self, meeting_id: str, session_id: str) -> None:
        """Take the session's recordings over as soon as their dead claimer is out of
        the registry: at once if it is already, else polled once a heartbeat."""
        claims = self.scheduler.claims
        deadline = time.monotonic() + CARRY_ON_SWEEPS * claims.sweep_secs
        try:
            while await self.scheduler.carry_on(meeting_id, session_id):
                if time.monotonic() > deadline:
                    break  # a live claimer finishes it; the periodic sweep does the rest
                await asyncio.sleep(claims.sweep_secs / 3)
        except Exception:
            log.exception("carrying on the recordings of meeting %s failed", meeting_id)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _session_started(self, host: RoomHost, session_id: str) -> None:
        try:
            async with self.rooms.database.session() as db:
                active = await recordings.active_of(db, host.meeting_id)
                for row in active:
                    if row.session_id is None:
                        row.session_id = session_id
                await db.commit()
                meeting = await db.get(Meeting, host.meeting_id)
                if meeting is not None and meeting.record_on_start and not active:
                    body = StartRecording(meeting_id=meeting.id)
                    active = [await recordings.start(
                        db, meeting.app_id, body, session_id=session_id,
                        reason="RECORD_ON_START", caller=make_caller("ORGANIZATION"))]
            for row in active:
                self.changed(row)
        except SalonError as refused:  # the meeting's recording_config: nothing to retry
            log.warning("meeting %s records on start, but its recording_config is refused: %s",
                        host.meeting_id, refused.message)
        except Exception:
            log.exception("starting the recordings of meeting %s failed", host.meeting_id)

    async def _session_ended(self, meeting_id: str) -> None:
        try:
            async with self.rooms.database.session() as db:
                stopped = await recordings.stop_meeting(db, meeting_id, "ALL_PEERS_LEFT")
            for row in stopped:
                self.changed(row)
        except Exception:
            log.exception("stopping the recordings of meeting %s failed", meeting_id)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
