"""Livestreams meet live rooms: a starting session starts the meeting's livestream when
`live_stream_on_start` asks (or gives its id to one queued before it), an ending
session stops it (a meeting's livestream never outlives its session), and peers hear of
each status change (`livestream.updated`).

After a failover (docs/cluster.md "Failover"), the node that carries a session on also
carries on its meeting's livestream if it was LIVE when its node died: it takes the
dead node's claim over (`LivestreamRunner.take_over`) and starts the encoder again, so
the stream goes on from here (a new HLS playlist on this node, its `playback_url`;
RTMP outputs reconnect). When only the encoder's node died, the node that runs the
meeting takes it over at its sweep (`LivestreamRunner.carries`). A room this node hands
over while its session goes on (drained, lease lost, sent to its family's node) does not
end its livestream: the encoder here stops and lets go of the claim
(`LivestreamRunner.hand_off`) for the node that carries the session on."""

import asyncio
import logging
from pathlib import Path
from typing import Any

from salon.core.livestreams import StartLivestream
from salon.core.room import Record
from salon.core.room.livestreams import livestream_updated
from salon.live.failover import Orphan
from salon.live.host import RoomHost
from salon.live.rooms import Rooms
from salon.livestream.playback import ViewerCounter
from salon.livestream.runner import LivestreamRunner
from salon.services import livestreams
from salon.services.livestreams import Urls
from salon.store.models import Livestream, LivestreamSession, Meeting

log = logging.getLogger("salon.livestream")

#: After a failover, how long the node carrying a session on keeps trying to take its
#: LIVE livestream over (its claimer must first drop out of the registry), and how often.
TAKE_OVER_WAIT_SECS = 30.0
TAKE_OVER_RETRY_SECS = 0.5


def view(livestream: Livestream, session: LivestreamSession, urls: Urls) -> dict[str, Any]:
    """A livestream as peers see it (no stream key: that is for the API's callers)."""
    return {"id": livestream.id, "session_id": session.id, "status": session.status,
            "playback_url": urls.playback(livestream.id)}


class LiveLivestreams:
    """Glue between the runner, the RTMP ingest, HLS playback and this process's rooms."""

    def __init__(self, rooms: Rooms, runner: LivestreamRunner, hls_root: Path,
                 viewers: ViewerCounter) -> None:
        self.rooms = rooms
        self.runner = runner
        self.urls = runner.settings.urls
        self.hls_root = hls_root
        self.viewers = viewers
        self._tasks: set[asyncio.Task[None]] = set()
        #: The RTMP ingest of independent livestreams (None: `rtmp_port` 0 or taken).
        self.ingest: Any = None
        #: Fetches HLS files from the node that encodes them (a cluster; None: one node).
        self.relay: Any = None
        runner.announce = self.announce
        runner.carries = self.carries
        rooms.handover_listeners.append(self.handed_over)
        rooms.session_listeners.append(self.session_changed)
        rooms.adoption_listeners.append(self.adopted)
        rooms.updates["livestream.updated"] = self._updated

    def announce(self, livestream: Livestream, session: LivestreamSession,
                 by_peer_id: str | None = None) -> None:
        """Tell the meeting's peers (`livestream.updated`), if its session is live, on
        whichever node runs it. `by_peer_id`: the peer whose request made this change;
        None for the API, the server and the encoder."""
        if livestream.meeting_id is None:
            return
        self.rooms.update(livestream.meeting_id, "livestream.updated", {
            "livestream": view(livestream, session, self.urls), "by_peer_id": by_peer_id})

    @staticmethod
    def _updated(host: RoomHost, data: dict[str, Any]) -> None:
        if host.room.is_live:
            host.run(lambda: livestream_updated(host.room, data["livestream"],
                                                data["by_peer_id"]))

    def changed(self, livestream: Livestream, session: LivestreamSession) -> None:
        """A caller changed a livestream: webhooks, the runner and peers hear of it."""
        self.runner.on_commit()
        self.runner.wake()
        self.announce(livestream, session, session.by_peer_id)

    def session_changed(self, host: RoomHost, record: Record) -> None:
        if record.kind == Record.SESSION_STARTED:
            self._spawn(self._session_started(host, record.data["session_id"]))
        elif record.kind == Record.SESSION_ENDED:
            host.room.livestream = None
            self._spawn(self._session_ended(host.meeting_id))

    def carries(self, meeting_id: str, session_id: str) -> bool:
        """Whether this node runs the meeting's session `session_id` now."""
        host = self.rooms.get(meeting_id)
        return (host is not None and not host.handed_over
                and host.room.session_id == session_id)

    def handed_over(self, host: RoomHost) -> None:
        """This node handed the meeting's room over, its session going on elsewhere: the
        livestream encoder of that meeting running here, if any, is left to the node that
        carries the session on (`LivestreamRunner.hand_off`)."""
        if host.room.session_id:
            self.runner.hand_off(host.meeting_id)

    def adopted(self, host: RoomHost, orphan: Orphan) -> None:
        """This node carries on `orphan`, a session whose node died: so is its meeting's
        livestream, if it was LIVE."""
        self._spawn(self._carry_on(host, orphan.session_id))

    async def _carry_on(self, host: RoomHost, session_id: str) -> None:
        """Take the meeting's LIVE livestream over once its claimer is out of the
        registry: a meeting's lease runs out (5 s) before a dead node's registry entry
        does (three heartbeats, 6 s), so the first tries may find it still listed."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + TAKE_OVER_WAIT_SECS
        try:
            while host.room.session_id == session_id and not host.handed_over:
                async with self.rooms.database.session() as db:
                    livestream = await livestreams.of_meeting(db, host.meeting_id)
                    running = (await livestreams.active_session_of(db, livestream.id)
                               if livestream else None)
                if livestream is None or running is None or running.status != "LIVE" \
                        or running.session_id not in (None, session_id) \
                        or running.id in self.runner.running:
                    return
                if await self.runner.take_over(running.id):  # which tells the peers
                    return
                if loop.time() > give_up_at:
                    log.warning("livestream session %s of meeting %s is still claimed by "
                                "a live node (or no encoder is free here): not taken over",
                                running.id, host.meeting_id)
                    return
                await asyncio.sleep(TAKE_OVER_RETRY_SECS)
        except Exception:
            log.exception("carrying on the livestream of meeting %s failed", host.meeting_id)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _session_started(self, host: RoomHost, session_id: str) -> None:
        try:
            async with self.rooms.database.session() as db:
                livestream = await livestreams.of_meeting(db, host.meeting_id)
                running = (await livestreams.active_session_of(db, livestream.id)
                           if livestream else None)
                if running is not None and running.session_id is None:
                    running.session_id = session_id
                    await db.commit()
                meeting = await db.get(Meeting, host.meeting_id)
                if running is None and meeting is not None and meeting.live_stream_on_start:
                    livestream, running = await livestreams.start_meeting(
                        db, meeting.app_id, meeting.id, StartLivestream(),
                        session_id=session_id)
            if livestream is not None and running is not None:
                self.changed(livestream, running)
        except Exception:
            log.exception("starting the livestream of meeting %s failed", host.meeting_id)

    async def _session_ended(self, meeting_id: str) -> None:
        try:
            async with self.rooms.database.session() as db:
                await livestreams.stop_all_of_meeting(db, meeting_id, "ALL_PEERS_LEFT",
                                                      self.urls)
            self.runner.on_commit()
            self.runner.wake()
        except Exception:
            log.exception("stopping the livestream of meeting %s failed", meeting_id)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
