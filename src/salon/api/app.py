"""The ASGI application: REST routes, error envelope, and the resources they share."""

import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

import salon
from salon.api import envelope, lean, openapi, routes
from salon.api.body_limit import BodyLimit
from salon.api.envelope import ok
from salon.api.gc_pauses import FrozenGenerations
from salon.api.head import HeadAsGet
from salon.api.json_bodies import JsonBodies
from salon.api.nosniff import NoSniff
from salon.api.routes import (
    api_docs,
    dashboard,
    files,
    landing,
    ops,
    recording_files,
    transcription_files,
    well_known,
)
from salon.api.routes import chat_export as chat_export_routes
from salon.api.schemas.envelope import Success
from salon.api.schemas.resources import Health
from salon.cluster.claims import JobClaims
from salon.cluster.joining import drain_cluster, join_cluster, leave_cluster, run_meetings
from salon.cluster.proxy import OwnerProxy
from salon.files import LocalFileStore
from salon.live import operator
from salon.live.recordings import LiveRecordings
from salon.live.rooms import Rooms
from salon.live.transcribers import LiveTranscribers, TranscriberSettings
from salon.livestream import playback as livestream_playback
from salon.livestream import service as livestreaming
from salon.livestream.fast_path import HlsFastPath
from salon.media import create_backend
from salon.observability import setup as observability
from salon.realtime import gateway
from salon.realtime import schema as realtime_schema
from salon.recording.scheduler import RecordingScheduler, SchedulerSettings
from salon.recording.storage import LocalStorage
from salon.services import apps, participant_tokens
from salon.services.chat_export import ExportLinks
from salon.services.grants import Grants
from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from salon.transcription import files as transcription_files_store
from salon.transcription.jobs import JobSettings, PostMeetingJobs
from salon.webhooks import signing
from salon.webhooks.dispatcher import WebhookDispatcher

#: FastAPI's defaults look up OpenTelemetry's global providers on every request.
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False,
                                  "operation_spans": False}


log = logging.getLogger("salon.server")

#: A step of stopping that takes longer than this is named in the log.
SLOW_STOP_SECS = 3.0


async def _timed(step: str, stopping: Awaitable[None]) -> None:
    """One step of stopping. One that takes long is logged, so that a drain that
    overruns its grace period (an orchestrator kills after 30 s) says where it went."""
    began = time.monotonic()
    await stopping
    took = time.monotonic() - began
    if took > SLOW_STOP_SECS:
        log.warning("stopping: %s took %.1f s", step, took)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings)
        await migrate.upgrade(database)
        await database.start_upkeep()
        async with database.session() as db:
            credentials = await apps.bootstrap(db)
            signer = await participant_tokens.load_signer(db, settings.participant_token_ttl_secs)
            webhook_signer = await signing.load_signer(db)
        if credentials is not None:
            _announce(credentials)
        app.state.database = database
        app.state.settings = settings
        app.state.signer = signer
        app.state.grants = Grants(database)
        app.state.webhook_signer = webhook_signer
        app.state.files = LocalFileStore(settings.data_dir / "files")
        # Signs chat download links: S6 answers and the `meeting.chatSynced` of ended sessions.
        app.state.export_links = ExportLinks.from_secret(
            signer.secret, settings.public_base, settings.chat_export_ttl_secs)
        # Salon's own recording storage; its links are signed with a key of their own.
        app.state.recording_storage = LocalStorage.for_deployment(
            settings.data_dir, signer.secret, settings.public_base)
        app.state.webhooks = WebhookDispatcher(database, webhook_signer, settings)
        await app.state.webhooks.start()
        app.state.media = create_backend(settings.media())
        if app.state.media is not None:
            await app.state.media.start()
        app.state.rooms = Rooms(database, settings.live(), app.state.export_links,
                                on_commit=app.state.webhooks.wake, media=app.state.media,
                                manual_video_cap=settings.media_max_video_subscriptions,
                                resume_secret=signer.secret)
        app.state.rooms.updates[operator.PLUGIN_DELETED] = operator.close_deleted_plugin
        clustered = bool(settings.redis_url.get_secret_value())
        # In a cluster, other nodes may be running the sessions marked LIVE: orphans are
        # swept by the cluster (salon.cluster.node), not closed at start.
        await app.state.rooms.start(close_stale=not clustered)
        app.state.node = await join_cluster(settings, app.state.rooms)
        app.state.cluster = await run_meetings(settings, app.state.node, app.state.rooms)
        claims = JobClaims.for_node(app.state.node)  # who runs which job (docs/cluster.md)
        await app.state.grants.join(claims.redis, claims.cluster)
        scheduler = RecordingScheduler(database, SchedulerSettings(
            max_concurrent=settings.max_concurrent_recordings, recorder=settings.recorder,
            data_dir=settings.data_dir,
            gateway_url=settings.gateway_url,
            link_ttl_secs=settings.recording_link_ttl_secs), signer,
            app.state.recording_storage,
            on_commit=app.state.webhooks.wake, claims=claims)
        app.state.recordings = LiveRecordings(app.state.rooms, scheduler)
        await scheduler.start()
        app.state.livestreams = await livestreaming.start(
            settings, database, signer, app.state.rooms, app.state.webhooks.wake, claims,
            app.state.cluster)
        # Post-meeting transcripts and summaries (salon.transcription.jobs): the live
        # transcriber hands each session's kept voices to `post_meeting.transcribe`.
        app.state.transcript_storage = transcription_files_store.storage_for_deployment(
            settings.data_dir, signer.secret, settings.public_base)
        app.state.post_meeting = PostMeetingJobs(
            database, JobSettings.from_settings(settings), app.state.transcript_storage,
            on_commit=app.state.webhooks.wake, claims=claims)
        await app.state.post_meeting.start()
        app.state.transcribers = LiveTranscribers(app.state.rooms, TranscriberSettings(
            data_dir=settings.data_dir, gateway_url=scheduler.settings.gateway_url,
            model_path=settings.transcription_model,
            cpu_threads=settings.transcription_threads), signer,
            on_captured=app.state.post_meeting.transcribe)
        await observability.start(app)
        # Full garbage collections walk only what is new since the last one.
        gc_pauses = FrozenGenerations(settings.gc_sweep_secs)
        gc_pauses.start()
        try:
            yield
        finally:
            await observability.stop(app)
            await gc_pauses.stop()
            # Meetings first: handed over to other nodes, whose peers resume there; the
            # recordings of meetings that go on are handed over too (not finished here).
            scheduler.hand_off_at_stop = app.state.cluster is not None
            app.state.livestreams.runner.hand_off_at_stop = app.state.cluster is not None
            await _timed("the cluster's drain", drain_cluster(app.state.node, app.state.cluster))
            await _timed("the rooms", app.state.rooms.stop())
            await _timed("the live transcribers", app.state.transcribers.stop())
            await _timed("the live recordings", app.state.recordings.stop())
            await _timed("the livestreams", livestreaming.stop(app.state.livestreams))
            await _timed("the recording scheduler", scheduler.stop())
            await _timed("the post-meeting jobs", app.state.post_meeting.stop())
            # Listed until its jobs are stopped and their rows written: other nodes take
            # over the jobs of a node that left (docs/cluster.md, "Jobs").
            await app.state.grants.leave()
            await _timed("leaving the cluster", leave_cluster(app.state.node))
            if app.state.media is not None:
                await _timed("the media server", app.state.media.stop())
            await _timed("the webhook dispatcher", app.state.webhooks.stop())
            await database.dispose()

    app = FastAPI(
        title="salon",
        version=salon.__version__,
        summary="Self-hosted realtime meetings with a RealtimeKit-compatible REST API.",
        lifespan=lifespan,
        # `/meetings/` is no route: a 404 in the envelope, not a 307 to `/meetings` (which
        # no client following RealtimeKit's paths needs, and POSTs rarely survive).
        redirect_slashes=False,
        docs_url=None,  # served offline by routes.api_docs
        redoc_url=None,
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    envelope.install(app)
    openapi.install(app)
    app.add_middleware(HeadAsGet)  # innermost: logs and figures still say HEAD
    app.add_middleware(JsonBodies)
    # In a cluster, REST on a live meeting run by another node is answered by that node.
    app.add_middleware(OwnerProxy)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(NoSniff)
    # Outermost: request ids, log context, REST figures (salon.observability).
    observability.install(app, access_log=settings.access_log)
    # Outermost of all: HLS viewers skip everything else (livestream/fast_path.py).
    app.add_middleware(HlsFastPath)
    routes.install(app)
    lean.install(app)
    app.include_router(well_known.router)
    app.include_router(gateway.router)
    app.include_router(realtime_schema.router)
    app.include_router(files.router)
    app.include_router(chat_export_routes.downloads)
    app.include_router(recording_files.router)
    app.include_router(transcription_files.router)
    app.include_router(ops.router)
    app.include_router(livestream_playback.router)
    api_docs.install(app)
    dashboard.install(app)
    landing.install(app, settings.public_base)

    @app.get("/healthz", tags=["ops"], summary="Liveness probe",
             response_model=Success[Health])
    async def healthz() -> envelope.Envelope:
        return ok({"status": "ok", "version": salon.__version__})

    return app


def _announce(credentials: apps.Credentials) -> None:
    """Printed once, on the first start with an empty database: the token is not kept."""
    print(
        "\nsalon: first start, created a default app. Keep these; the token is shown once.\n"
        f"  account_id: {credentials.account_id}\n"
        f"  app_id:     {credentials.app_id}\n"
        f"  api_token:  {credentials.api_token}\n",
        flush=True,
    )
