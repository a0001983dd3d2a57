"""Figures read at scrape time: live rooms and peers, realtime counts, media, queues.

`LiveCollector` is a prometheus_client custom collector: each scrape walks the live
objects (`Rooms`, the media backend, the webhook dispatcher, the job runners) and the
`Tally`, so nothing on a hot path keeps a gauge in sync. What only the database knows
(webhook deliveries waiting, recordings and transcripts not finished) is counted by
`Backlog.refresh`, at most once per `BACKLOG_SECS`, before the scrape renders.
"""

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select

import salon
from salon.core.recordings import ACTIVE
from salon.observability.metrics import Tally
from salon.store.database import Database
from salon.store.models import Recording, SessionSummary, SessionTranscript, WebhookDelivery

log = logging.getLogger("salon.observability")

#: The database's figures are at most this old.
BACKLOG_SECS = 5.0
#: Recording states that are still work: queued, recording, paused, or being stored.
UNFINISHED_RECORDINGS = tuple(sorted(ACTIVE | {"UPLOADING"}))

#: (metric suffix, help) of the media figures (salon.media.embedded.figures.FIGURES).
MEDIA_COUNTERS = (
    ("received_packets", "RTP packets received from publishers (RTX left out)."),
    ("received_bytes", "RTP payload bytes received from publishers (RTX left out)."),
    ("received_frames", "Video frames (marker packets) or audio packets received."),
    ("keyframes", "Video keyframes received from publishers."),
    ("lost_packets", "Packets publishers sent that never arrived (sequence gaps)."),
    ("rtx_received", "Retransmitted (RTX) packets received from publishers."),
    ("nacks_sent", "RTCP NACKs sent to publishers, asking again for lost packets."),
    ("plis_sent", "Keyframe requests (RTCP PLI) sent to publishers."),
    ("not_forwarded", "Frames received while forwarding was off (muted, not allowed)."),
    ("forwarded_packets", "RTP packets forwarded to subscribers."),
    ("forwarded_bytes", "RTP payload bytes forwarded to subscribers."),
    ("forward_dropped", "Packets not forwarded: the subscriber's transport was not up."),
    ("nack_resent", "Packets sent again because a subscriber's NACK asked for them."),
    ("keyframe_requests", "Keyframe requests (PLI, FIR) received from subscribers."),
)


class Backlog:
    """What waits in the database, counted at most every BACKLOG_SECS."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.webhooks_pending: int | None = None
        self.recordings: dict[str, int] = {}
        self.transcripts_processing: int | None = None
        self.summaries_processing: int | None = None
        self.failures = 0
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        if time.monotonic() - self._at < BACKLOG_SECS:
            return
        async with self._lock:
            if time.monotonic() - self._at < BACKLOG_SECS:
                return
            self._at = time.monotonic()
            try:
                async with asyncio.timeout(2.0):
                    await self._count()
            except Exception as error:
                self.failures += 1
                log.warning("counting the database's backlog for /metrics failed: %s", error)

    async def _count(self) -> None:
        async with self.database.session() as db:
            self.webhooks_pending = await db.scalar(
                select(func.count()).select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "pending"))
            rows = await db.execute(
                select(Recording.status, func.count()).where(
                    Recording.status.in_(UNFINISHED_RECORDINGS)).group_by(Recording.status))
            counts = dict.fromkeys(UNFINISHED_RECORDINGS, 0)
            counts.update({status: count for status, count in rows})
            self.recordings = counts
            self.transcripts_processing = await db.scalar(
                select(func.count()).select_from(SessionTranscript)
                .where(SessionTranscript.status == "PROCESSING"))
            self.summaries_processing = await db.scalar(
                select(func.count()).select_from(SessionSummary)
                .where(SessionSummary.status == "PROCESSING"))


class LiveCollector:
    """Reads `state` (the app's `app.state`) at scrape time; its `backlog` once the
    app's lifespan has made one."""

    def __init__(self, state: Any, tally: Tally) -> None:
        self.state = state
        self.tally = tally

    @property
    def backlog(self) -> Backlog | None:
        return getattr(self.state, "backlog", None)

    def collect(self) -> Iterator[Metric]:
        yield from self._info()
        yield from self._rooms()
        yield from self._realtime()
        yield from self._media()
        yield from self._webhooks()
        yield from self._jobs()

    def _info(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("salon_build_info", "The running salon's version; always 1.",
                                 labels=["version"])
        info.add_metric([salon.__version__], 1)
        yield info

    def _rooms(self) -> Iterator[Metric]:
        rooms = getattr(self.state, "rooms", None)
        hosts = list(rooms.hosts.values()) if rooms is not None else []
        live = joined = waiting = connected = 0
        for host in hosts:
            room = host.room
            live += room.is_live
            in_session = len(room.joined)
            joined += in_session
            waiting += len(room.peers) - in_session
            connected += len(host.links)
        yield _gauge("salon_rooms", "Meetings loaded in this process (live or winding down).",
                     len(hosts))
        yield _gauge("salon_sessions_live", "Meetings with a live session.", live)
        peers = GaugeMetricFamily(
            "salon_peers", "Peers in live rooms: `joined` (in the session, a dropped peer "
            "in its resume window included) or `waiting` (in the waiting room).",
            labels=["state"])
        peers.add_metric(["joined"], joined)
        peers.add_metric(["waiting"], waiting)
        yield peers
        yield _gauge("salon_peers_connected", "Peers with an open realtime connection.",
                     connected)

    def _realtime(self) -> Iterator[Metric]:
        t = self.tally
        yield _gauge("salon_realtime_connections", "Realtime WebSocket connections open.",
                     t.connections_opened - t.connections_closed)
        yield _counter("salon_realtime_connections", "Realtime WebSocket connections "
                       "accepted.", t.connections_opened, suffix="opened")
        yield _counter("salon_realtime_messages_received", "Realtime messages received "
                       "from peers (join requests included).", t.messages_in)
        yield _counter("salon_realtime_messages_sent", "Realtime messages sent to peers "
                       "(replies and events).", t.messages_out)
        yield _counter("salon_realtime_socket_writes", "Socket writes that carried those "
                       "messages (several queued messages go in one write).", t.write_batches)
        yield _counter("salon_realtime_joins", "Joins and resumes that succeeded.", t.joins)
        refused = CounterMetricFamily("salon_realtime_join_refusals", "Joins refused, by "
                                      "error code (docs/protocol.md).", labels=["code"])
        for code, count in sorted(t.join_refusals.items()):
            refused.add_metric([code], count)
        yield refused
        yield _counter("salon_realtime_peers_too_slow", "Peers dropped for reading their "
                       "messages too slowly (close code 4008).", t.peers_too_slow)
        yield _counter("salon_sessions_started", "Sessions started.", t.sessions_started)
        yield _counter("salon_sessions_ended", "Sessions ended.", t.sessions_ended)
        yield _counter("salon_session_peers_admitted", "Peers admitted to a session "
                       "(joined it, straight or from the waiting room).", t.peers_admitted)

    def _media(self) -> Iterator[Metric]:
        media = getattr(self.state, "media", None)
        if media is None or not hasattr(media, "figures"):
            return
        counts = media.counts()
        yield _gauge("salon_media_peers", "Peers with media open on the embedded SFU.",
                     counts["peers"])
        tracks = GaugeMetricFamily("salon_media_tracks", "Tracks published now, by kind.",
                                   labels=["kind"])
        for kind in ("audio", "video"):
            tracks.add_metric([kind], counts.get(kind, 0))
        yield tracks
        yield _gauge("salon_media_subscriptions", "Subscriber slots carrying a track now.",
                     counts["slots"])
        figures = media.figures()
        for name, text in MEDIA_COUNTERS:
            family = CounterMetricFamily(f"salon_media_{name}", text, labels=["kind"])
            for kind in ("audio", "video"):
                family.add_metric([kind], figures[kind][name])
            yield family

    def _webhooks(self) -> Iterator[Metric]:
        dispatcher = getattr(self.state, "webhooks", None)
        if dispatcher is None:
            return
        attempts = CounterMetricFamily(
            "salon_webhook_attempts", "Webhook delivery attempts by this process, by what "
            "became of the delivery: delivered, retry (sent again later) or failed "
            "(given up).", labels=["outcome"])
        for outcome, count in sorted(dispatcher.attempts.items()):
            attempts.add_metric([outcome], count)
        yield attempts
        yield _gauge("salon_webhook_deliveries_in_flight", "Webhook deliveries being sent "
                     "by this process now.", dispatcher.in_flight)
        if self.backlog is not None and self.backlog.webhooks_pending is not None:
            yield _gauge("salon_webhook_deliveries_pending", "Webhook deliveries waiting to "
                         "be sent or retried (the whole deployment's outbox).",
                         self.backlog.webhooks_pending)

    def _jobs(self) -> Iterator[Metric]:
        recordings = getattr(self.state, "recordings", None)
        scheduler = getattr(recordings, "scheduler", None)
        if scheduler is not None:
            yield _gauge("salon_recordings_running", "Recordings this process records now.",
                         len(scheduler.running))
        post_meeting = getattr(self.state, "post_meeting", None)
        if post_meeting is not None:
            yield _gauge("salon_transcription_jobs_running", "Post-meeting transcript and "
                         "summary jobs queued or running in this process.",
                         post_meeting.running())
        backlog = self.backlog
        if backlog is None or backlog.transcripts_processing is None:
            return
        unfinished = GaugeMetricFamily("salon_recordings_unfinished", "Recordings not "
                                       "finished, by status (the whole deployment).",
                                       labels=["status"])
        for status, count in sorted(backlog.recordings.items()):
            unfinished.add_metric([status], count)
        yield unfinished
        processing = GaugeMetricFamily("salon_transcription_jobs_processing", "Transcripts "
                                       "and summaries PROCESSING (the whole deployment).",
                                       labels=["kind"])
        processing.add_metric(["transcript"], backlog.transcripts_processing)
        processing.add_metric(["summary"], backlog.summaries_processing or 0)
        yield processing
        yield _counter("salon_metrics_backlog_failures", "Times counting the database's "
                       "backlog for /metrics failed.", backlog.failures)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def _counter(name: str, text: str, value: float, suffix: str = "") -> CounterMetricFamily:
    return CounterMetricFamily(f"{name}_{suffix}" if suffix else name, text, value=value)
