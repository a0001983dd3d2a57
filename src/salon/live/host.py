"""RoomHost: runs one meeting's `Room` — its links, timers and recorder.

Every change goes through `run`, which applies a room command and carries its outcome
out before returning. Commands are synchronous and the event loop runs one at a time, so
the room has a single writer without locks: there is nothing to race.
"""

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from salon.core.clock import utcnow
from salon.core.ratelimit import Limit, TokenBucket
from salon.core.room import Outcome, Peer, Record, Room, RoomError, audience, failover
from salon.core.room.connected import move_out
from salon.live.failover import Orphan, Stay, resume_token
from salon.live.link import PeerLink
from salon.live.media import MediaSync
from salon.live.recorder import Recorder
from salon.live.settings import LiveSettings
from salon.media.backend import MediaBackend

log = logging.getLogger("salon.live")

CLOSE_REPLACED = 4006
#: The server is going away (WebSocket "service restart"): clients may come back.
CLOSE_RESTARTING = 1012
#: This node stops running the meeting (drained, or its lease lost): reconnect, and the
#: node that takes the meeting over resumes the peer (docs/cluster.md).
CLOSE_HANDED_OVER = 4013
#: What `on_session` hears of: a session starting or ending, and each peer admitted to it
#: (the transcriber starts when the first captioned peer joins).
_SESSION_EDGES = (Record.SESSION_STARTED, Record.SESSION_ENDED, Record.PEER_JOINED)


def event_text(event: str, data: Mapping[str, Any]) -> str:
    return orjson.dumps({"type": "event", "event": event, "data": data}).decode()


def _serialized(outcome: Outcome) -> list[tuple[str, frozenset[str]]]:
    """Every event of the outcome as text, each serialized once for all its recipients."""
    return [(event_text(outgoing.event, outgoing.data), outgoing.to)
            for outgoing in outcome.events]


class RoomHost:
    def __init__(self, meeting_id: str, title: str | None, app_id: str, keep_alive_secs: int,
                 recorder: Recorder, settings: LiveSettings,
                 on_idle: Callable[["RoomHost"], None] | None = None,
                 media: MediaBackend | None = None, manual_video_cap: int = 25,
                 resume_secret: str = "") -> None:
        self.room = Room(meeting_id, title)
        #: Signs resume tokens (empty: random ones, valid on this node only).
        self.resume_secret = resume_secret
        #: Peers of an adopted session (failover) that may still come back, by peer id.
        self.expected: dict[str, Stay] = {}
        self._expected_session: str | None = None
        self._expected_until: asyncio.TimerHandle | None = None
        #: Set once this node no longer runs the meeting (salon.live.rooms.hand_over).
        self.handed_over = False
        self.room.large_threshold = settings.large_room_threshold or None
        #: The pending `audience.delta` flush of a large room (core/room/audience.py).
        self._audience_flush: asyncio.TimerHandle | None = None
        #: Keeps the media backend in line with the room (None: media is off).
        self.media = (MediaSync(self.room, media, self.carry_out, manual_video_cap)
                      if media is not None else None)
        self.app_id = app_id
        self.settings = settings
        self.keep_alive_secs = keep_alive_secs
        self.links: dict[str, PeerLink] = {}
        self.resume_tokens: dict[str, str] = {}
        self.recorder = recorder
        self.on_idle = on_idle
        self.buckets: dict[tuple[str, str], TokenBucket] = {}
        self._keep_alive: asyncio.TimerHandle | None = None
        self._grace: dict[str, asyncio.TimerHandle] = {}
        #: Set for a connected meeting (breakout room): its parent meeting.
        self.parent_meeting_id: str | None = None
        #: How to move each connected peer to another meeting on its own connection
        #: (registered by the gateway; `salon.live.connected` calls them).
        self.movers: dict[str, Callable[..., Any]] = {}
        #: Called when someone joined or left the session (connected meetings' lists).
        self.on_roster: Callable[[RoomHost], None] | None = None
        #: Called when the session starts or ends, and when a peer joins it (recordings
        #: and transcribers follow sessions).
        self.on_session: Callable[[RoomHost, Record], None] | None = None

    @property
    def meeting_id(self) -> str:
        return self.room.meeting_id

    # --- running commands -------------------------------------------------------------------

    def run(self, command: Callable[[], Outcome],
            respond: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Apply one room command (raising RoomError if refused) and carry it out.

        `respond` gets the reply before the command's events go out, so a peer sees the
        answer to its request before the events the request caused. Every event is
        serialized before `respond` is called: if one cannot be, the error is raised
        before anything is sent, and nothing of the outcome is carried out.
        """
        outcome = command()
        events = _serialized(outcome)  # a failure here is raised before anything is sent
        if respond is not None:
            respond(outcome.reply)
        self._carry_out(outcome, events)
        return outcome.reply

    def carry_out(self, outcome: Outcome) -> None:
        self._carry_out(outcome, _serialized(outcome))

    def _carry_out(self, outcome: Outcome, events: list[tuple[str, frozenset[str]]]) -> None:
        if self.media is not None:
            self.media.reconcile(outcome)  # forwarding stops before anyone is told
        for text, to in events:
            for peer_id in to:
                link = self.links.get(peer_id)
                if link is not None:
                    link.send(text)
        for record in outcome.records:
            self.recorder.put(record)
            if self.on_session is not None and record.kind in _SESSION_EDGES:
                self.on_session(self, record)
        if self.on_roster is not None and any(
                r.kind in (Record.PEER_JOINED, Record.PEER_LEFT) for r in outcome.records):
            self.on_roster(self)
        for close in outcome.closes:
            self.movers.pop(close.peer_id, None)
            link = self.links.pop(close.peer_id, None)
            self.resume_tokens.pop(close.peer_id, None)
            self._cancel_grace(close.peer_id)
            if link is not None:
                link.close(close.code, close.reason)
        self._watch_keep_alive()
        self._watch_audience()
        self.release_if_done()

    def _watch_audience(self) -> None:
        """Batch a large room's audience presence: one `audience.delta` per interval,
        however many came and went in it (a timer, not a message per join)."""
        if self.room.audience.pending and self._audience_flush is None:
            loop = asyncio.get_running_loop()
            self._audience_flush = loop.call_later(self.settings.audience_update_secs,
                                                   self._flush_audience)

    def _flush_audience(self) -> None:
        self._audience_flush = None
        self.run(lambda: audience.flush(self.room))

    def release_if_done(self) -> None:
        """Tell the registry when nobody is here and no session is live."""
        if self.on_idle is not None and self.is_done:
            self.on_idle(self)

    def rate_bucket(self, participant_id: str, limit: Limit) -> TokenBucket:
        """The participant's token bucket for one kind of request (made on first use)."""
        key = (participant_id, limit.bucket)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket.of(limit)
        return bucket

    @property
    def is_done(self) -> bool:
        return self.room.is_empty and not self.links

    # --- peers coming and going -----------------------------------------------------------

    def check_peer_cap(self, participant_id: str) -> None:
        """Refuse a new peer of a participant that has its share of peers here already
        (`max_peers_per_participant`): joined, waiting, or dropped and in the resume
        window, since each holds a place in the room. A resume is no new peer."""
        cap = self.settings.max_peers_per_participant
        held = len(self.room.peers_of(participant_id))
        if held >= cap:
            raise RoomError("TOO_MANY_PEERS",
                            f"This participant already has {held} peers in the meeting "
                            f"(at most {cap}); leave with one of them first.")

    def connect(self, peer: Peer, link: PeerLink, *, admit: bool = False) -> dict[str, Any]:
        reply = self.run(lambda: self.room.connect(peer, utcnow(), admit=admit))
        self._attach(peer.peer_id, link)
        self.resume_tokens[peer.peer_id] = self._token_for(peer)
        return {**reply, "peer_id": peer.peer_id,
                "resume_token": self.resume_tokens[peer.peer_id]}

    def _token_for(self, peer: Peer) -> str:
        if not self.resume_secret:
            return secrets.token_urlsafe(24)
        return resume_token(self.resume_secret, self.meeting_id, peer.peer_id,
                            peer.participant_id)

    # --- failover (docs/cluster.md) -------------------------------------------------------

    def adopt(self, orphan: Orphan) -> None:
        """Carry on the session a dead node ran: its peers have the resume window to
        come back (`restore`); the ones that do not are recorded as gone."""
        failover.adopt(self.room, orphan.session_id, orphan.started_at,
                       orphan.max_concurrent, utcnow())
        self.expected = dict(orphan.stays)
        self._expected_session = orphan.session_id
        loop = asyncio.get_running_loop()
        self._expected_until = loop.call_later(self.settings.resume_grace_secs,
                                               self._expected_over)
        self._watch_keep_alive()

    def may_restore(self, peer_id: str, participant_id: str, token: str) -> bool:
        stay = self.expected.get(peer_id)
        return (stay is not None and stay.participant_id == participant_id
                and self.room.session_id == self._expected_session  # not ended meanwhile
                and peer_id not in self.room.peers and bool(self.resume_secret)
                and secrets.compare_digest(token, resume_token(
                    self.resume_secret, self.meeting_id, peer_id, participant_id)))

    def may_seat_early(self, peer_id: str, participant_id: str, token: str) -> bool:
        """Whether a returning peer the adopted session has no record of may be seated
        as itself: its node died moments after it joined, before its join was saved.
        Its resume token, signed with the deployment's key, proves who it is; only in
        the resume window after the takeover, and (the caller checks, `seat_early`) only
        if no stay of that peer id is on record at all — one that left is not let back."""
        return (self._expected_until is not None and peer_id not in self.expected
                and self.room.session_id == self._expected_session
                and peer_id not in self.room.peers and bool(self.resume_secret)
                and secrets.compare_digest(token, resume_token(
                    self.resume_secret, self.meeting_id, peer_id, participant_id)))

    def seat_early(self, peer: Peer, link: PeerLink) -> dict[str, Any]:
        """Seat a peer `may_seat_early` let through: a join now (its stay starts now,
        the moments before its node died are lost with it) under its old peer id, so the
        client goes on as the same peer. Not admitted past a waiting room: nothing says
        it had been."""
        return {**self.connect(peer, link), "resumed": True}

    def restore(self, peer: Peer, link: PeerLink) -> dict[str, Any]:
        """Seat a returning peer of the adopted session (its resume token checked by
        `may_restore`), as the same peer."""
        stay = self.expected.pop(peer.peer_id)
        reply = self.run(lambda: failover.restore(self.room, peer, stay.joined_at, utcnow()))
        self._attach(peer.peer_id, link)
        self.resume_tokens[peer.peer_id] = self._token_for(peer)
        return {**reply, "peer_id": peer.peer_id,
                "resume_token": self.resume_tokens[peer.peer_id], "resumed": True}

    def _expected_over(self) -> None:
        """The resume window after a takeover is over: whoever did not come back left
        when their node died (as far as anyone can tell, now)."""
        self._expected_until = None
        now, session_id = utcnow(), self._expected_session
        gone, self.expected = list(self.expected.values()), {}
        if session_id is None:
            return
        for stay in gone:
            self.recorder.put(Record(Record.PEER_LEFT, now, {
                "session_id": session_id, "peer_id": stay.peer_id,
                "participant_id": stay.participant_id, "name": stay.name,
                "custom_participant_id": stay.custom_participant_id,
                "reason": "disconnected", "joined_at": stay.joined_at,
                "live": len(self.room.joined) if self.room.session_id == session_id else 0}))

    def hand_over(self) -> None:
        """This node stops running the meeting (drained, or it lost the lease): every
        peer is told to reconnect (CLOSE_HANDED_OVER) and nothing is ended or recorded —
        the node that takes over carries the session on."""
        self.handed_over = True
        for handle in (self._keep_alive, self._audience_flush, self._expected_until,
                       *self._grace.values()):
            if handle is not None:
                handle.cancel()
        self._keep_alive = self._audience_flush = self._expected_until = None
        self._grace.clear()
        # peers expected back go to the node that takes over, which records them
        self.expected = {}
        for link in list(self.links.values()):
            link.close(CLOSE_HANDED_OVER, "meeting handed over: reconnect")
        self.links.clear()
        self.movers.clear()

    def resume(self, peer_id: str, participant_id: str, resume_token: str,
               link: PeerLink) -> dict[str, Any]:
        """Re-attach a dropped peer; its old link, if still open, is closed."""
        expected = self.resume_tokens.get(peer_id)
        peer = self.room.peers.get(peer_id)
        if (expected is None or peer is None or peer.participant_id != participant_id
                or not secrets.compare_digest(expected, resume_token)):
            raise RoomError("RESUME_FAILED",
                            "This peer cannot be resumed (gone or wrong resume token); "
                            "join again without 'resume'.")
        self._cancel_grace(peer_id)
        old = self.links.pop(peer_id, None)
        if old is not None and old is not link:
            old.close(CLOSE_REPLACED, "resumed on another connection")
        reply = self.run(lambda: self.room.resume(peer_id))
        self._attach(peer_id, link)
        return {**reply, "peer_id": peer_id, "resume_token": expected, "resumed": True}

    def detach(self, peer_id: str) -> None:
        """The peer moves to another meeting on the same connection: it leaves this room
        (reason `moved`), but its link is only forgotten here, not closed."""
        self._cancel_grace(peer_id)
        self.movers.pop(peer_id, None)
        self.resume_tokens.pop(peer_id, None)
        self.links.pop(peer_id, None)
        self.run(lambda: move_out(self.room, peer_id, utcnow()))

    def _attach(self, peer_id: str, link: PeerLink) -> None:
        self.links[peer_id] = link
        link.watch(lambda: self.disconnected(peer_id, link))  # dropped as too slow

    def disconnected(self, peer_id: str, link: PeerLink) -> None:
        """A peer's socket is gone. It keeps its place for the grace window."""
        if self.links.get(peer_id) is not link:
            return  # already replaced, kicked or left
        del self.links[peer_id]
        self.movers.pop(peer_id, None)
        if peer_id not in self.room.peers:
            self.release_if_done()  # it was the last thing keeping the room
            return
        self.room.disconnect(peer_id, utcnow())
        loop = asyncio.get_running_loop()
        self._grace[peer_id] = loop.call_later(self.settings.resume_grace_secs,
                                               self._grace_over, peer_id)

    def _grace_over(self, peer_id: str) -> None:
        self._grace.pop(peer_id, None)
        if peer_id in self.room.peers and peer_id not in self.links:
            self.resume_tokens.pop(peer_id, None)
            try:
                self.run(lambda: self.room.leave(peer_id, utcnow(), "disconnected"))
            except RoomError:
                pass

    def _cancel_grace(self, peer_id: str) -> None:
        handle = self._grace.pop(peer_id, None)
        if handle is not None:
            handle.cancel()

    # --- the session's keep-alive -----------------------------------------------------------

    def _watch_keep_alive(self) -> None:
        idle = self.room.is_live and self.room.idle_since is not None
        if idle and self._keep_alive is None:
            window = float(self.keep_alive_secs)
            if self.settings.keep_alive_cap_secs is not None:
                window = min(window, self.settings.keep_alive_cap_secs)
            elapsed = (utcnow() - self.room.idle_since).total_seconds()  # type: ignore[operator]
            loop = asyncio.get_running_loop()
            self._keep_alive = loop.call_later(max(window - elapsed, 0), self._expire)
        elif not idle and self._keep_alive is not None:
            self._keep_alive.cancel()
            self._keep_alive = None

    def _expire(self) -> None:
        self._keep_alive = None
        self.run(lambda: self.room.expire(utcnow()))

    # --- shutting down ----------------------------------------------------------------------

    async def shut_down(self, reason: str, grace: float | None = None) -> None:
        """Server going away: end the session now (it did end now) and flush records,
        waiting out an unavailable database for `grace` seconds at most."""
        if self._keep_alive is not None:
            self._keep_alive.cancel()
            self._keep_alive = None
        if self._audience_flush is not None:
            self._audience_flush.cancel()
            self._audience_flush = None
        for handle in self._grace.values():
            handle.cancel()
        self._grace.clear()
        self.carry_out(self.room.end(utcnow(), reason, close_code=CLOSE_RESTARTING,
                                     close_reason="server restarting"))
        if self.media is not None:
            await asyncio.gather(*self.media.close_all(), return_exceptions=True)
        await self.recorder.drain(grace)


