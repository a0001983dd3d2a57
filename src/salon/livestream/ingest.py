"""The RTMP ingest of independent livestreams: an encoder publishes to
`rtmp://<host>:<port>/live/` with the livestream's stream key; salon checks the key
before accepting any media, and a remuxer process turns the stream into the HLS that
`playback_url` serves.

- A key that is no independent livestream's (or a disabled one's, or one already being
  published) is refused with `NetStream.Publish.BadName` and the connection closed:
  nothing is written, no session starts.
- The first publish makes a livestream session: LIVE (with `livestreaming.statusUpdate`,
  `manualIngest: true`) once media flows.
- An encoder that drops and publishes again within `grace_secs` continues the same
  session: the same remuxer takes its stream, timestamps moved on past what was
  written, so the playlist just continues (viewers see a stall, not an end). Past the
  grace window the remuxer ends the playlist (`#EXT-X-ENDLIST`) and the session goes
  IDLE; an encoder publishing while that end is under way waits for it, then starts a
  new session.

One encoder per stream key: the key is reserved (`_encoders`) in the same step as it is
checked, with no await in between, and held until that encoder's connection is over.
"""

import asyncio
import contextlib
import logging
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from salon.core import livestreams as rules
from salon.core.clock import utcnow
from salon.core.ids import new_uuid
from salon.deadline import within
from salon.livestream import rtmp
from salon.livestream.outputs import PLAYLIST, segment_prefix
from salon.services import livestreams
from salon.services.livestreams import Urls
from salon.store.database import Database
from salon.store.models import Livestream, LivestreamSession

log = logging.getLogger("salon.livestream.ingest")

#: The RTMP application encoders publish to (`rtmp://host:port/live/`).
APP = "live"
#: Commands before `publish` a connection may send; more is not an encoder.
MAX_COMMANDS = 32
HANDSHAKE_SECS = 10.0
#: From the handshake to `publish`: an encoder takes well under a second.
PUBLISH_SECS = 30.0
#: A publishing encoder that sends nothing for this long is gone (its TCP may linger).
SILENT_SECS = 20.0
#: RTMP connections at once; more are closed at once (a flood costs nothing else).
MAX_CONNECTIONS = 64


@dataclass
class _Publishing:
    """An independent livestream's current session as the ingest follows it."""

    session_id: str
    #: The session's remuxer (FLV on its stdin → HLS).
    remuxer: asyncio.subprocess.Process
    live: bool = False
    #: Seconds of media received in all connections of this session so far.
    seconds: float = 0.0
    #: Where the next connection's timestamps start (ms): past everything written.
    next_ms: int = 0
    grace: asyncio.Task[None] | None = None
    #: Why the session cannot go on (the encoder sends codecs HLS cannot carry).
    error: str | None = None
    #: Set when `_end` is done with it (its playlist ended, its row moved).
    ended: asyncio.Event = field(default_factory=asyncio.Event)


#: The gap left between one connection's last timestamp and the next's first (ms).
RECONNECT_GAP_MS = 40


class RtmpIngest:
    def __init__(self, database: Database, hls_root: Path, urls: Urls, port: int,
                 grace_secs: float, on_commit: Callable[[], None],
                 host: str = "0.0.0.0", node_id: str | None = None) -> None:
        self.database = database
        #: The node its sessions are claimed by (`salon.cluster.claims`): another node
        #: ends them only once this one is gone.
        self.node_id = node_id
        self.hls_root = hls_root
        self.urls = urls
        self.port = port
        self.host = host
        self.grace_secs = grace_secs
        self.on_commit = on_commit
        #: Sessions going on (an encoder connected, or within the grace window), by
        #: livestream id; `_ending`: those `_end` is ending (out of `publishing`).
        self.publishing: dict[str, _Publishing] = {}
        self._ending: dict[str, _Publishing] = {}
        #: Livestreams whose key an accepted encoder holds (from `publish` to its end).
        self._encoders: set[str] = set()
        #: Set by `stop`: an encoder's end then ends its session as a stop (IDLE).
        self._stopping = False
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> bool:
        try:
            self._server = await asyncio.start_server(self._connection, self.host, self.port)
        except OSError as exc:
            log.warning("no RTMP ingest: cannot listen on %s:%d (%s)", self.host, self.port,
                        exc.strerror or exc)
            return False
        return True

    def sessions(self) -> set[str]:
        """The sessions this ingest runs (being ended included): not stale."""
        return {state.session_id
                for state in (*self.publishing.values(), *self._ending.values())}

    async def stop(self) -> None:
        """A clean stop: every session ends IDLE, its playlist ended, LIVE or not yet."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for state in list(self.publishing.values()):
            if state.grace is not None:
                state.grace.cancel()
        for livestream_id in list(self.publishing):
            await self._end(livestream_id)
        for state in list(self._ending.values()):  # grace windows that were ending
            await state.ended.wait()

    # --- one encoder's connection ----------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connection = rtmp.RtmpConnection(reader, writer)
        if len(self._connections) >= MAX_CONNECTIONS:
            log.warning("RTMP connection refused: %d connections already", MAX_CONNECTIONS)
            await connection.close()
            return
        self._connections.add(task)
        try:
            await within(connection.handshake(), HANDSHAKE_SECS)
            livestream_id = await within(self._until_publish(connection),
                                         PUBLISH_SECS)
            if livestream_id is not None:
                await self._publish(connection, livestream_id)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass  # `stop`: ended quietly (asyncio logs a handler's cancellation as an error)
        except (rtmp.RtmpError, rtmp.amf.AmfError) as exc:
            log.info("RTMP connection refused: %s", exc)
        except Exception:
            log.exception("RTMP connection failed")
        finally:
            self._connections.discard(task)
            await connection.close()

    async def _until_publish(self, connection: rtmp.RtmpConnection) -> str | None:
        """Answer connect and createStream; at `publish`, check the key. Returns the
        livestream id the connection may publish to, or None (refused)."""
        app = None
        for _ in range(MAX_COMMANDS):
            message = await connection.read_message()
            if message.type not in (rtmp.COMMAND, rtmp.COMMAND_AMF3):
                continue
            payload = message.payload[1:] if message.type == rtmp.COMMAND_AMF3 else \
                message.payload
            values = rtmp.amf.decode(payload)
            if len(values) < 2 or not isinstance(values[0], str):
                raise rtmp.RtmpError("a command without a name")
            name, transaction = values[0], values[1]
            if name == "connect":
                params = values[2] if len(values) > 2 and isinstance(values[2], dict) else {}
                app = str(params.get("app", "")).strip("/")
                await connection.accept_connect(transaction)
            elif name == "createStream":
                await connection.command("_result", transaction, None, 1)
            elif name == "publish":
                key = str(values[3]) if len(values) > 3 and values[3] is not None else ""
                key = key.split("?", 1)[0]
                livestream_id, why = await self._check(app, key)
                if livestream_id is None:
                    await connection.status(message.stream_id or 1, "error",
                                            "NetStream.Publish.BadName", why)
                    log.info("RTMP publish refused: %s", why)
                    return None
                try:  # the key is this connection's now (`_check`)
                    connection.authenticated()
                    await connection.status(message.stream_id or 1, "status",
                                            "NetStream.Publish.Start", "Publishing.")
                except BaseException:
                    self._encoders.discard(livestream_id)
                    raise
                return livestream_id
        raise rtmp.RtmpError("no publish after the connection's commands")

    async def _check(self, app: str | None, key: str) -> tuple[str | None, str]:
        if app != APP:
            return None, f"Publish to the '{APP}' application (rtmp://host:port/{APP}/)."
        if not key:
            return None, "A stream key is required."
        async with self.database.session() as db:
            row = await db.scalar(select(Livestream).where(Livestream.stream_key == key))
        if row is None or row.meeting_id is not None:
            return None, "No livestream has this stream key."
        if row.disabled:
            return None, "This livestream is disabled."
        # Checked and reserved with no await in between: of two encoders publishing the
        # same key at once, one gets it. The reservation is the caller's to release.
        if row.id in self._encoders:
            return None, "An encoder is already publishing to this livestream."
        self._encoders.add(row.id)
        return row.id, ""

    async def _session_of(self, livestream_id: str) -> _Publishing:
        """The session this encoder publishes to: the one in its grace window, which
        goes on, or a new one (after the end of one past its window, if under way:
        that one's remuxer is ending its playlist in the same folder)."""
        ending = self._ending.get(livestream_id)
        if ending is not None:
            await ending.ended.wait()
        state = self.publishing.get(livestream_id)
        if state is None:
            state = self.publishing[livestream_id] = await self._new_session(livestream_id)
        elif state.grace is not None:  # still sleeping: `_end` takes a state out first
            state.grace.cancel()
            state.grace = None
        return state

    async def _publish(self, connection: rtmp.RtmpConnection, livestream_id: str) -> None:
        """Pipe the encoder's media into its session's remuxer; its key's reservation
        (`_check`) is released when it is done, and only here."""
        try:
            state = await self._session_of(livestream_id)
        except BaseException:
            self._encoders.discard(livestream_id)
            raise
        stdin = state.remuxer.stdin
        assert stdin is not None
        base = first = peak = None
        try:
            while True:
                message = await within(connection.read_message(), SILENT_SECS)
                if message.type == rtmp.COMMAND:
                    name = rtmp.amf.decode(message.payload)[:1]
                    if name and name[0] in ("deleteStream", "FCUnpublish", "closeStream"):
                        break
                    continue
                refused = rtmp.unsupported(message)
                if refused:
                    state.error = refused
                    break
                if message.type in (rtmp.AUDIO, rtmp.VIDEO):
                    base = message.timestamp if base is None else base
                    first = message.timestamp if first is None else first
                    peak = message.timestamp if peak is None else max(peak, message.timestamp)
                    message.timestamp = state.next_ms + max(0, message.timestamp - base)
                tag = rtmp.flv_tag(message)
                if tag is None:
                    continue
                if state.remuxer.returncode is not None or stdin.is_closing():
                    log.warning("the remuxer of livestream %s stopped", livestream_id)
                    break
                stdin.write(tag)
                await stdin.drain()
                if not state.live and message.type == rtmp.VIDEO and \
                        (self.hls_root / livestream_id / PLAYLIST).exists():
                    state.live = True  # viewers can play it: the first segment is listed
                    await self._move(livestream_id, state, "LIVE", started_time=utcnow())
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the encoder went away (or went silent)
        finally:
            # No await from here to the grace task or `_end`: an encoder taking the key
            # meanwhile would find neither, and go on in a session about to end.
            self._encoders.discard(livestream_id)
            if first is not None and peak is not None:
                state.seconds += max(0, peak - first) / 1000
                state.next_ms += max(0, peak - first) + RECONNECT_GAP_MS
            healthy = state.remuxer.returncode is None and not stdin.is_closing() \
                and state.error is None
            if healthy and self._stopping:
                pass  # the server stops: `stop` ends it IDLE, LIVE or not yet
            elif healthy and state.live:
                state.grace = asyncio.create_task(self._grace(livestream_id))
                await self._ingested(state)
            else:  # nothing playable was published (or the remuxer failed): it ends
                await self._end(livestream_id, "ERRORED", state.error)

    async def _grace(self, livestream_id: str) -> None:
        await asyncio.sleep(self.grace_secs)
        await self._end(livestream_id)

    # --- the session's rows ----------------------------------------------------------------

    async def _new_session(self, livestream_id: str) -> _Publishing:
        directory = self.hls_root / livestream_id
        await asyncio.to_thread(shutil.rmtree, directory, True)
        now = utcnow()
        async with self.database.session() as db:
            livestream = await db.get(Livestream, livestream_id)
            assert livestream is not None
            session = LivestreamSession(
                id=new_uuid(), livestream_id=livestream_id, app_id=livestream.app_id,
                session_id=None, status="INVOKED", config={"ingest": "rtmp"},
                ingest_seconds=0.0, viewer_seconds=0.0, claimed_at=now, claimed_by=self.node_id,
                invoked_time=now,
                updated_at=now)
            db.add(session)
            livestream.status = "INVOKED"
            livestream.updated_at = now
            await db.commit()
        remuxer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "salon.livestream.remux", str(directory),
            str(rules.HLS_TIME), segment_prefix(session.id), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL)
        assert remuxer.stdin is not None
        remuxer.stdin.write(rtmp.FLV_HEADER)
        return _Publishing(session.id, remuxer)

    async def _move(self, livestream_id: str, state: _Publishing, status: str,
                    **fields: object) -> None:
        async with self.database.session() as db:
            livestream = await db.get(Livestream, livestream_id)
            session = await db.get(LivestreamSession, state.session_id)
            if livestream is None or session is None or session.status == status:
                return
            if await livestreams.move(db, livestream, session, status, self.urls, **fields):
                self.on_commit()

    async def _ingested(self, state: _Publishing) -> None:
        async with self.database.session() as db:
            session = await db.get(LivestreamSession, state.session_id)
            if session is not None and session.status in rules.ACTIVE:
                session.ingest_seconds = round(state.seconds, 3)
                await db.commit()

    async def _end(self, livestream_id: str, status: str = "IDLE",
                   error: str | None = None) -> None:
        """The session is over: the remuxer ends the playlist, the session goes IDLE (or
        ERRORED).

        The session leaves `publishing` before the first await: an encoder publishing
        from then on (just past the grace window) cannot go on in it — its remuxer's
        stdin is closing, which ended the session ERRORED — but waits for `ended` and
        starts a new one."""
        state = self.publishing.pop(livestream_id, None)
        if state is None:
            return
        self._ending[livestream_id] = state
        try:
            if state.remuxer.stdin is not None:
                with contextlib.suppress(ConnectionError, OSError):
                    state.remuxer.stdin.close()
            try:
                await within(state.remuxer.wait(), 10)
            except TimeoutError:
                state.remuxer.kill()
            if status == "ERRORED" and error is None:
                error = ("remuxing the stream failed (send H.264 video and AAC audio)"
                         if state.remuxer.returncode else "the encoder published no video")
            fields: dict[str, object] = {"stopped_time": utcnow(), "stop_reason": "INGEST_ENDED",
                                         "ingest_seconds": round(state.seconds, 3)}
            if error:
                fields["err_message"] = error
            await self._move(livestream_id, state, status, **fields)
        finally:
            del self._ending[livestream_id]
            state.ended.set()
