"""The WebSocket endpoint: authenticate with the first message, then serve requests.

The token travels in the first message (`join`), never in the URL, so it cannot land in
an access log. Anything malformed gets an error reply and the connection carries on.
"""

import asyncio
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from salon.core.errors import Unauthorized
from salon.core.ids import new_uuid
from salon.core.ratelimit import TokenBucket
from salon.core.room import Peer, RoomError
from salon.core.room.room import CLOSE_ENDED
from salon.deadline import within
from salon.live.host import RoomHost, event_text
from salon.live.rooms import Rooms
from salon.observability import context
from salon.observability.metrics import Tally
from salon.realtime import early, placement, protocol
from salon.realtime.admission import Busy, JoinGate
from salon.realtime.commands import COMMANDS, AsyncCommand, Context, Limit
from salon.realtime.connection import WebSocketLink
from salon.realtime.framed_link import FramedLink
from salon.realtime.join import Join
from salon.realtime.messages.connected import ChangeFailed, Changing
from salon.realtime.messages.views import MediaConfig
from salon.realtime.transport import activity_of, frames_of
from salon.services import connected_meetings, participants

log = logging.getLogger("salon.realtime")
router = APIRouter()

JOIN_TIMEOUT_SECS = 10
CLOSE_BAD_JOIN = 4000
CLOSE_UNAUTHORIZED = 4001
CLOSE_INACTIVE = 4002
#: Nothing arrived for `idle_timeout_secs`: dropped, and the peer may resume.
CLOSE_IDLE = 4007
#: The participant has `max_peers_per_participant` peers in the meeting already.
CLOSE_TOO_MANY_PEERS = 4009
#: The node is saturated (SERVER_BUSY): join again after the reply's `retry_after`.
CLOSE_BUSY = 4010
#: Close codes of refused joins that are not CLOSE_BAD_JOIN.
_JOIN_CLOSES = {"TOO_MANY_PEERS": CLOSE_TOO_MANY_PEERS}


def _validation_message(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}"
                     for e in error.errors()[:5])


@router.websocket("/realtime/v1")
async def gateway(websocket: WebSocket) -> None:
    await websocket.accept()
    tally: Tally = websocket.app.state.metrics.tally
    tally.connections_opened += 1
    frames = frames_of(websocket.scope)
    link = (FramedLink(websocket, frames, tally) if frames is not None
            else WebSocketLink(websocket, tally))
    session = _PeerSession(websocket, link, websocket.app.state.rooms, tally)
    try:
        await session.serve()
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("realtime connection failed")
    finally:
        tally.connections_closed += 1
        session.gone()
        await link.finish()
        if session.peer_id is not None:
            log.info("peer connection closed")


class _PeerSession:
    """One connection's life: join, then requests until it closes."""

    def __init__(self, websocket: WebSocket, link: WebSocketLink | FramedLink,
                 rooms: Rooms, tally: Tally) -> None:
        self.websocket = websocket
        self.link = link
        self.rooms = rooms
        #: The app's counts (/metrics): plain integers, bumped per message received.
        self.tally = tally
        #: The room this connection's log lines name (salon.observability.context).
        self._bound_host: RoomHost | None = None
        self.host: RoomHost | None = None
        self.peer_id: str | None = None
        #: Held while a request is handled or the peer moves to another meeting: a move
        #: happens between two requests, never in the middle of one.
        self.busy = asyncio.Lock()

    async def serve(self) -> None:
        if not await self._join():
            return
        while not self.link.closed:
            try:
                raw = await self._receive_before_idle()
            except TimeoutError:
                # Nothing arrived for too long: treat as dropped. A code of its own, not
                # 1000, so the client knows to resume.
                self.link.close(CLOSE_IDLE, "idle for too long")
                return
            self.tally.messages_in += 1
            if self.link.closed:
                return  # dropped (too slow, kicked) while this message was on its way
            if self.host is not self._bound_host:  # moved to a connected meeting
                self._bind_context()
            async with self.busy:
                await self._handle(raw)

    async def _receive_before_idle(self) -> str | bytes:
        """The next message, or TimeoutError once nothing at all — no message, no
        WebSocket ping or pong frame (`salon.realtime.transport`) — arrived for
        `idle_timeout_secs`.

        The receive is awaited here, under a deadline, not in a task of its own: a task
        and `asyncio.wait` per message cost two more event-loop turns before a request
        is handled, and in a large room's fan-out a turn can take tens of milliseconds.
        """
        idle = self.host.settings.idle_timeout_secs  # type: ignore[union-attr]
        activity = activity_of(self.websocket.scope)
        last = time.monotonic()
        while True:
            if activity is not None and activity.last_frame_at is not None:
                last = max(last, activity.last_frame_at)
            left = last + idle - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                async with asyncio.timeout(left):
                    return await self._receive()
            except TimeoutError:
                continue  # a ping or pong frame may have come meanwhile: look again

    async def _receive(self) -> str | bytes:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        return message.get("text") or message.get("bytes") or b""

    def gone(self) -> None:
        if self.host is not None and self.peer_id is not None:
            self.host.disconnected(self.peer_id, self.link)

    # --- joining --------------------------------------------------------------------------

    async def _join(self) -> bool:
        try:
            raw = await within(self._receive(), JOIN_TIMEOUT_SECS)
        except TimeoutError:
            self.link.close(CLOSE_BAD_JOIN, "no join message")
            return False
        self.tally.messages_in += 1
        try:
            request = protocol.decode(raw)
        except protocol.BadMessage as bad:
            return self._refuse(bad.request_id, "BAD_MESSAGE", bad.message, CLOSE_BAD_JOIN)
        if request.type != "join":
            return self._refuse(request.id, "NOT_JOINED",
                                "The first message must be 'join' with your token.",
                                CLOSE_BAD_JOIN)
        try:
            params = Join.model_validate(request.data)
        except ValidationError as error:
            return self._refuse(request.id, "INVALID", _validation_message(error),
                                CLOSE_BAD_JOIN)
        if type(params.protocol) is not int or params.protocol != protocol.PROTOCOL_VERSION:
            return self._refuse(request.id, "PROTOCOL_VERSION",
                                f"This server speaks protocol {protocol.PROTOCOL_VERSION}.",
                                CLOSE_BAD_JOIN)
        try:
            async with self._gate().slot():
                return await self._admit(request, params)
        except Busy as busy:
            return self._refuse(request.id, "SERVER_BUSY",
                                f"The server is busy; join again in {busy.retry_after} s.",
                                CLOSE_BUSY, retry_after=busy.retry_after)

    def _gate(self) -> JoinGate:
        """The node's join gate (`salon.realtime.admission`), made on first use."""
        state = self.websocket.app.state
        gate = getattr(state, "join_gate", None)
        if gate is None:
            settings = state.settings
            gate = state.join_gate = JoinGate(settings.join_concurrency, settings.join_queue,
                                              settings.join_queue_wait_secs)
        return gate

    async def _admit(self, request: protocol.Request, params: Join) -> bool:
        """The join proper, inside a slot of the join gate: the token, then the room."""
        state = self.websocket.app.state
        try:
            async with state.database.session() as db:
                admitted = await participants.admit(db, state.signer, params.token)
        except Unauthorized as error:
            return self._refuse(request.id, "UNAUTHORIZED", error.message, CLOSE_UNAUTHORIZED)
        if admitted.meeting.status != "ACTIVE":
            return self._refuse(request.id, "MEETING_INACTIVE",
                                "This meeting is inactive; nobody can join it.", CLOSE_INACTIVE)
        cluster = getattr(state, "cluster", None)
        nodes: list[str] = []
        if cluster is not None:
            # listed first: from the placement on nothing is awaited until the peer is in
            # the room (the lease is checked again just before), and once it is, its
            # reply must be the first message it gets
            nodes = await cluster.addresses()
            refusal = await placement.refusal(cluster, admitted.meeting)
            if refusal is None and not cluster.leases.holds(admitted.meeting.id):
                refusal = placement.MOVING
            if refusal is not None:
                return self._refuse(request.id, refusal.code, refusal.message,
                                    refusal.close_code, **refusal.details)
        host = self.rooms.host_for(admitted.meeting)
        if params.session_id is not None and host.room.session_id != params.session_id:
            host.release_if_done()
            return self._refuse(request.id, "SESSION_ENDED",
                                f"Session {params.session_id} is not live in this meeting: "
                                "it has ended.", CLOSE_ENDED)
        try:
            resume = params.resume
            if resume is not None and host.may_restore(resume.peer_id, admitted.participant.id,
                                                       resume.resume_token):
                # back after its node died: the meeting's new node seats it again
                reply = host.restore(self._new_peer(admitted, params, resume.peer_id),
                                     self.link)
            elif resume is not None and host.may_seat_early(
                    resume.peer_id, admitted.participant.id, resume.resume_token):
                # back after its node died, before its join was on record (realtime.early)
                reply = await early.seat_early(
                    self.rooms, cluster, host, self._new_peer(admitted, params, resume.peer_id),
                    resume.resume_token, self.link)
            elif resume is not None:
                reply = host.resume(resume.peer_id, admitted.participant.id,
                                    resume.resume_token, self.link)
            else:
                host.check_peer_cap(admitted.participant.id)
                reply = host.connect(self._new_peer(admitted, params), self.link)
        except RoomError as error:
            host.release_if_done()
            if error.code == placement.MOVING.code:  # as a refusal before seating says it
                moving = placement.MOVING
                return self._refuse(request.id, moving.code, error.message,
                                    moving.close_code, **moving.details)
            return self._refuse(request.id, error.code, error.message,
                                _JOIN_CLOSES.get(error.code, CLOSE_BAD_JOIN))
        self.host, self.peer_id = host, reply["peer_id"]
        host.movers[self.peer_id] = self.move_to
        self.tally.joins += 1
        self._bind_context()
        log.info("peer %s", "resumed" if params.resume is not None else "joined")
        self.link.send(protocol.reply(request.id, {"protocol": protocol.PROTOCOL_VERSION,
                                                   "resumed": False, **reply,
                                                   "media": self._media_config(),
                                                   "nodes": nodes}))
        return True

    def _media_config(self) -> MediaConfig:
        """What the client needs for its peer connections (also while it waits: it is
        the same once admitted). `enabled` is false when the server runs without media."""
        assert self.host is not None and self.peer_id is not None
        backend = self.websocket.app.state.media
        if backend is None:
            return MediaConfig(enabled=False)
        peer = self.host.room.peers[self.peer_id]
        return MediaConfig(enabled=True,
                           **backend.client_config(self.peer_id).wire(peer.max_video_streams),
                           video=peer.capture["video"],
                           screenshare=peer.capture["screenshare"])

    def _new_peer(self, admitted: participants.Admitted, params: Join,
                  peer_id: str | None = None) -> Peer:
        participant = admitted.participant
        name = participant.name or participant.custom_participant_id
        if params.name and admitted.permissions.can_edit_display_name:
            name = params.name
        config = admitted.config
        peer = self._peer_from(admitted, name, config.max_video_streams.mobile
                               if params.media.device == "mobile"
                               else config.max_video_streams.desktop, peer_id)
        peer.media.update(audio=params.media.audio, video=params.media.video)
        return peer

    @staticmethod
    def _peer_from(admitted: participants.Admitted, name: str, max_video_streams: int,
                   peer_id: str | None = None) -> Peer:
        participant = admitted.participant
        return Peer(
            peer_id=peer_id or new_uuid(), participant_id=participant.id,
            custom_participant_id=participant.custom_participant_id, name=name,
            picture=participant.picture, preset_name=admitted.preset.name,
            view_type=admitted.config.view_type, permissions=admitted.permissions,
            max_video_streams=max_video_streams,
            video_stream_caps=admitted.config.max_video_streams.model_dump(),
            max_screenshare_count=admitted.config.max_screenshare_count,
            capture=admitted.config.media.capture(),
        )

    # --- moving to a connected meeting ---------------------------------------------------

    async def move_to(self, meeting_id: str, preset_name: str | None,
                      by_peer_id: str | None) -> bool:
        """Leave this room and join `meeting_id` as the same person, on this connection
        (`salon.live.connected` asks). The peer hears `meeting.changing`, then
        `meeting.changed` with what a fresh join would have told it and a token for the
        new meeting (to resume or join again there). False if nothing moved."""
        async with self.busy:
            if self.host is None or self.peer_id is None or self.link.closed:
                return False
            old = self.host.room.peers.get(self.peer_id)
            if old is None or not old.joined or self.host.meeting_id == meeting_id:
                return False
            self.link.send(event_text("meeting.changing", Changing(
                from_meeting_id=self.host.meeting_id, to_meeting_id=meeting_id,
                by_peer_id=by_peer_id)))
            state = self.websocket.app.state
            try:
                async with state.database.session() as db:
                    admitted = await connected_meetings.seat(
                        db, self.host.app_id, meeting_id, old.custom_participant_id,
                        old.name, old.picture, preset_name or old.preset_name)
                if admitted.meeting.status != "ACTIVE":
                    raise Unauthorized(f"Meeting {meeting_id} is inactive.")
            except Exception as error:
                log.warning("moving peer %s to %s failed: %s", self.peer_id, meeting_id, error)
                self.link.send(event_text("meeting.change_failed", ChangeFailed(
                    to_meeting_id=meeting_id, message="The move failed; you stay.")))
                return False
            cluster = getattr(state, "cluster", None)
            if cluster is not None and not (
                    await placement.runs_here(cluster, admitted.meeting)
                    and cluster.leases.holds(admitted.meeting.id)):
                self.link.send(event_text("meeting.change_failed", ChangeFailed(
                    to_meeting_id=meeting_id,
                    message="That room runs on another node; join it from the room list.")))
                return False
            old = self.host.room.peers.get(self.peer_id)  # it may have left meanwhile
            if old is None or not old.joined or self.link.closed:
                return False
            peer = self._peer_from(admitted, old.name, old.max_video_streams)
            peer.media.update(audio=old.media["audio"], video=old.media["video"])
            target = self.rooms.host_for(admitted.meeting)
            self.host.detach(self.peer_id)  # leaves with reason "moved"
            reply = target.connect(peer, self.link, admit=True)
            self.host, self.peer_id = target, reply["peer_id"]
            target.movers[self.peer_id] = self.move_to
            self.link.send(event_text("meeting.changed", {
                "meeting_id": meeting_id, "by_peer_id": by_peer_id, **reply,
                "token": state.signer.mint(admitted.participant),
                "media": self._media_config()}))
            return True

    def _bind_context(self) -> None:
        """Name the app, meeting, session and peer in this connection's log lines."""
        assert self.host is not None
        self._bound_host = self.host
        context.bind(app_id=self.host.app_id, meeting_id=self.host.meeting_id,
                     session_id=self.host.room.session_id, peer_id=self.peer_id)

    def _refuse(self, request_id: Any, code: str, message: str, close_code: int,
                **details: Any) -> bool:
        """Refuse a join: the error reply, then the close."""
        refusals = self.tally.join_refusals
        refusals[code] = refusals.get(code, 0) + 1
        self.link.send(protocol.error(request_id, code, message, **details))
        self.link.close(close_code, protocol.close_reason(message))
        return False

    # --- requests -------------------------------------------------------------------------

    async def _handle(self, raw: str | bytes) -> None:
        """Answer one request. Nothing a client sends can break the connection or the room."""
        assert self.host is not None and self.peer_id is not None
        try:
            request = protocol.decode(raw)
        except protocol.BadMessage as bad:
            self.link.send(protocol.error(bad.request_id, "BAD_MESSAGE", bad.message))
            return
        command = COMMANDS.get(request.type)
        if command is None:
            if request.type == "join":
                self.link.send(protocol.error(request.id, "ALREADY_JOINED",
                                              "This connection has joined already; open "
                                              "another one for another peer."))
                return
            self.link.send(protocol.error(request.id, "UNKNOWN_TYPE",
                                          f"Unknown request type '{request.type}'."))
            return
        try:
            params = command.params.model_validate(request.data)
        except ValidationError as error:
            self.link.send(protocol.error(request.id, "INVALID", _validation_message(error)))
            return
        bucket = self._bucket(command.limit)
        wait_ms = self._wait_ms(bucket)
        if wait_ms is not None:
            limit = command.limit
            self.link.send(protocol.error(
                request.id, "RATE_LIMITED",
                f"At most {limit.rate:g} '{limit.bucket}' requests per {limit.per:g} s "
                f"(bursts of {limit.capacity:g}); retry in {wait_ms} ms.",
                retry_after_ms=wait_ms))
            return
        if request.type == "leave":
            self._run(request, command.run(self.host, self.peer_id, params))
            self.link.close(1000, "left")
            return
        if isinstance(command, AsyncCommand):
            await self._run_async(request, command, params)
        elif self._run(request, command.run(self.host, self.peer_id, params)) == "INVALID":
            # The room's own rules refused it, with no work done (no I/O): no budget
            # used. An asynchronous command's refusal may come after work (an offer
            # parsed, a database read), so it keeps its token.
            bucket.give_back()

    @staticmethod
    def _wait_ms(bucket: TokenBucket) -> int | None:
        """None if the request may go ahead (a token is taken), else how many
        milliseconds until it may. Budgets count per participant, across its peers."""
        now = time.monotonic()
        return None if bucket.allow(now) else max(1, bucket.retry_after_ms(now))

    def _bucket(self, limit: Limit) -> TokenBucket:
        assert self.host is not None and self.peer_id is not None
        participant_id = self.host.room.peers[self.peer_id].participant_id
        return self.host.rate_bucket(participant_id, limit)

    async def _run_async(self, request: protocol.Request, command: AsyncCommand,
                         params: Any) -> None:
        assert self.host is not None and self.peer_id is not None
        context = Context(self.host, self.peer_id, self.websocket.app.state)
        try:
            outcome = await command.run(context, params)
            if isinstance(outcome, dict):  # a plain reply: rendered here, failures included
                self.link.send(protocol.reply(request.id, outcome))
                return
        except RoomError as error:
            self.link.send(protocol.error(request.id, error.code, error.message))
            return
        except Exception:
            log.exception("request %s failed", request.type)
            self.link.send(protocol.error(request.id, "INTERNAL",
                                          "The server failed to handle this request."))
            return
        self._run(request, outcome)

    def _run(self, request: protocol.Request, command: Any) -> str | None:
        """Run and answer; the error code if the request was refused."""
        assert self.host is not None
        try:
            self.host.run(command, respond=lambda data: self.link.send(
                protocol.reply(request.id, data)))
        except RoomError as error:
            self.link.send(protocol.error(request.id, error.code, error.message))
            return error.code
        except Exception:
            log.exception("request %s failed", request.type)
            self.link.send(protocol.error(request.id, "INTERNAL",
                                          "The server failed to handle this request."))
            return "INTERNAL"
        return None
