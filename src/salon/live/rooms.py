"""The registry of live rooms of this process, and their shared background work."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from salon.core.clock import utcnow
from salon.core.room import Record
from salon.core.room.room import ALL_PARTICIPANTS_LEFT
from salon.deadline import within
from salon.live.connected import ConnectedMeetings
from salon.live.failover import Orphan
from salon.live.host import RoomHost
from salon.live.recorder import Recorder
from salon.live.settings import LiveSettings
from salon.media.backend import MediaBackend
from salon.services import session_records
from salon.services.chat_export import ExportLinks
from salon.store.database import Database
from salon.store.models import Meeting

log = logging.getLogger("salon.live")

#: At shutdown, how long recorders wait out an unavailable database before giving up,
#: and how long a room may take to shut down in all.
SHUTDOWN_GRACE_SECS = 3.0
SHUTDOWN_TIMEOUT_SECS = 5.0


class Rooms:
    def __init__(self, database: Database, settings: LiveSettings, links: ExportLinks,
                 on_commit: Callable[[], None] | None = None,
                 media: MediaBackend | None = None, manual_video_cap: int = 25,
                 resume_secret: str = "") -> None:
        self.database = database
        #: Signs peers' resume tokens, so that they hold on any node (failover).
        self.resume_secret = resume_secret
        #: In a cluster: at a stop, rooms are handed over (their sessions go on, run by
        #: other nodes) instead of ended (docs/cluster.md).
        self.hand_over_at_stop = False
        #: The media backend every room drives (None: media is off).
        self.media = media
        self.manual_video_cap = manual_video_cap
        self.settings = settings
        #: Signs the chat download links that ending sessions announce.
        self.links = links
        self.on_commit = on_commit
        self.hosts: dict[str, RoomHost] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        #: Recorders of released rooms, still persisting what their rooms decided.
        self._retiring: dict[asyncio.Task[None], Recorder] = {}
        #: Connected meetings (breakout rooms): families of rooms, moves, timers.
        self.connected = ConnectedMeetings(self)
        #: Told when a session starts or ends or a peer joins it (`salon.live.recordings`,
        #: `salon.live.transcribers`).
        self.session_listeners: list[Callable[[RoomHost, Record], None]] = []
        #: Told of each session carried on after its node died (`adopted`): salon's own
        #: bots of that session (recorder, transcriber, compositor) start again here.
        self.adoption_listeners: list[Callable[[RoomHost, Orphan], None]] = []
        #: Told the meeting id of each room dropped as done (the cluster releases its lease).
        self.retire_listeners: list[Callable[[str], None]] = []
        #: Told of each room this node hands over (`hand_over`: drained, lease lost, sent
        #: to its family's node) while its session goes on elsewhere: its bots stop here
        #: without ending anything (docs/cluster.md "Failover").
        self.handover_listeners: list[Callable[[RoomHost], None]] = []
        #: Room updates by name (`update`): what a room does when told of a change made
        #: elsewhere (a recording's status, a deleted plugin).
        self.updates: dict[str, Callable[[RoomHost, dict[str, Any]], None]] = {}
        #: In a cluster: hands an update to the node running the meeting (None: one node).
        self.relay: Callable[[str | None, str, dict[str, Any]], None] | None = None

    async def start(self, close_stale: bool = True) -> None:
        """Close sessions a crash left LIVE (unless other nodes may be running them: a
        cluster sweeps orphans its own way), then keep live ones' heartbeats fresh."""
        closed = 0
        if close_stale:
            async with self.database.session() as db:
                closed = await session_records.close_stale(db, self.links)
        if closed:
            log.warning("closed %d session(s) left live by an unclean stop", closed)
            if self.on_commit:
                self.on_commit()
        self._heartbeat = asyncio.create_task(self._beat(), name="session heartbeat")

    async def stop(self) -> None:
        self.connected.shut_down()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        hosts = list(self.hosts.values())
        self.hosts.clear()
        if self.hand_over_at_stop:
            for host in hosts:
                self._retiring_task(host)
                self._tell_handed_over(host)
                await self._hand_over(host)
            hosts = []
        for recorder in self._retiring.values():
            recorder.give_up_after(SHUTDOWN_GRACE_SECS)
        results = await asyncio.gather(
            *(within(host.shut_down(ALL_PARTICIPANTS_LEFT, SHUTDOWN_GRACE_SECS),
                     SHUTDOWN_TIMEOUT_SECS) for host in hosts),
            *(within(task, SHUTDOWN_TIMEOUT_SECS) for task in self._retiring),
            return_exceptions=True)
        for host, result in zip(hosts, results, strict=False):
            if isinstance(result, BaseException):
                log.error("shutting down room %s", host.meeting_id, exc_info=result)

    def update(self, meeting_id: str | None, kind: str, data: dict[str, Any]) -> None:
        """Tell the meeting's room (None: every room) of a change, wherever it runs: here,
        or through the cluster (`salon.cluster.signals`). `data` must be plain JSON."""
        self.apply(meeting_id, kind, data)
        if self.relay is not None and (meeting_id is None or meeting_id not in self.hosts):
            self.relay(meeting_id, kind, data)

    def apply(self, meeting_id: str | None, kind: str, data: dict[str, Any]) -> None:
        """Apply an update to the rooms of this node it is for."""
        handler = self.updates.get(kind)
        if handler is None:
            return
        hosts = (list(self.hosts.values()) if meeting_id is None
                 else [h for h in (self.hosts.get(meeting_id),) if h is not None])
        for host in hosts:
            if not host.handed_over:
                handler(host, data)

    def get(self, meeting_id: str) -> RoomHost | None:
        return self.hosts.get(meeting_id)

    def load(self) -> tuple[int, int]:
        """Live rooms (with a session) and the peers connected to them, for the
        cluster's node registry."""
        live = [host for host in self.hosts.values() if host.room.session_id]
        return len(live), sum(len(host.links) for host in live)

    def host_for(self, meeting: Meeting) -> RoomHost:
        host = self.hosts.get(meeting.id)
        if host is None:
            recorder = Recorder(self.database, meeting.app_id, self.links, self.on_commit)
            host = RoomHost(meeting.id, meeting.title, meeting.app_id,
                            meeting.session_keep_alive_time_in_secs, recorder,
                            self.settings, on_idle=self._retire, media=self.media,
                            manual_video_cap=self.manual_video_cap,
                            resume_secret=self.resume_secret)
            host.on_roster = self.connected.roster_changed
            host.on_session = self._session_changed
            self.hosts[meeting.id] = host
        else:
            host.room.title = meeting.title
            host.keep_alive_secs = meeting.session_keep_alive_time_in_secs
        host.room.transcribe_on_end = bool(getattr(meeting, "transcribe_on_end", False))
        host.parent_meeting_id = getattr(meeting, "parent_meeting_id", None)
        parent = self.hosts.get(host.parent_meeting_id or "")
        if not host.room.is_live:  # a breakout session belongs to the parent's, if live
            host.room.parent_session_id = parent.room.session_id if parent else None
        return host

    def _session_changed(self, host: RoomHost, record: Record) -> None:
        for listener in self.session_listeners:
            try:
                listener(host, record)
            except Exception:  # one listener failing must not keep others from hearing
                log.exception("a session listener failed on %s", record.kind)

    def adopted(self, host: RoomHost, orphan: Orphan) -> None:
        """`host` now carries on `orphan`, the session a dead node ran (docs/cluster.md
        "Failover"): tell the adoption listeners."""
        for listener in self.adoption_listeners:
            try:
                listener(host, orphan)
            except Exception:  # one listener failing must not keep others from hearing
                log.exception("an adoption listener failed on %s", orphan.session_id)

    def _retire(self, host: RoomHost) -> None:
        """A room with no peers and no live session is dropped; its records still land."""
        if self.hosts.get(host.meeting_id) is host:
            del self.hosts[host.meeting_id]
            self._retiring_task(host)
            for listener in self.retire_listeners:
                listener(host.meeting_id)

    def _retiring_task(self, host: RoomHost) -> None:
        task = asyncio.create_task(host.recorder.drain())
        self._retiring[task] = host.recorder
        task.add_done_callback(lambda done: self._retiring.pop(done, None))

    def hand_over(self, meeting_id: str) -> None:
        """This node no longer runs the meeting (its lease is lost): its peers are told to
        reconnect, to the node that takes it over; its session is not ended."""
        host = self.hosts.pop(meeting_id, None)
        if host is not None:
            self._retiring_task(host)
            self._tell_handed_over(host)
            task = asyncio.create_task(self._hand_over(host))
            self._retiring[task] = host.recorder
            task.add_done_callback(lambda done: self._retiring.pop(done, None))

    def _tell_handed_over(self, host: RoomHost) -> None:
        """Mark the room handed over and tell the hand-over listeners (its bots stop
        here without ending anything): at a lost lease, a room sent home, and a drain."""
        host.handed_over = True  # before the listeners hear of it
        for listener in self.handover_listeners:
            try:
                listener(host)
            except Exception:  # one listener failing must not keep others from hearing
                log.exception("a hand-over listener failed on %s", host.meeting_id)

    @staticmethod
    async def _hand_over(host: RoomHost) -> None:
        host.hand_over()
        if host.media is not None:
            await asyncio.gather(*host.media.close_all(), return_exceptions=True)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_secs)
            live = [h.room.session_id for h in self.hosts.values() if h.room.session_id]
            try:
                async with self.database.session() as db:
                    await session_records.heartbeat(db, [s for s in live if s], utcnow())
            except Exception:
                log.exception("session heartbeat failed")
