"""Settings from the environment (`SALON_*`), overridable by CLI flags."""

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from salon.live.settings import LiveSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALON_")

    #: Where the SQLite database, uploads and keys live.
    data_dir: Path = Path("./salon-data")
    #: A PostgreSQL URL (`postgresql://user@host/db`); empty means SQLite in `data_dir`.
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8787
    #: How long a participant token stays valid; RealtimeKit leaves this undocumented.
    participant_token_ttl_secs: int = 7 * 24 * 3600
    #: Webhook retries wait base × 2^(attempt-1) seconds, at most max, after a 5xx,
    #: timeout or network error; RealtimeKit documents no schedule.
    webhook_retry_base_secs: float = 1.0
    webhook_retry_max_secs: float = 300
    #: Attempts per delivery, the first included, before it is marked failed.
    webhook_max_attempts: int = 8
    #: Whole-request deadline for one delivery attempt.
    webhook_timeout_secs: float = 10
    #: How long a dropped peer keeps its place in the room, waiting to resume.
    resume_grace_secs: float = 15.0
    #: Caps every meeting's session keep-alive (normally 60–600 s); for tests and demos.
    keep_alive_cap_secs: float | None = None
    #: How often live sessions note they are alive (their end time after a crash).
    session_heartbeat_secs: float = 15.0
    #: permessage-deflate on realtime WebSockets; off by default (see bench/realtime.py).
    websocket_compression: bool = False
    #: A realtime connection that sends nothing, not even a ping, for this long is dropped.
    realtime_idle_timeout_secs: float = 45.0
    log_level: str = "info"
    #: The server's address as clients reach it, for absolute links (chat files, chat
    #: exports); empty means `http://{host}:{port}`. Set it behind a proxy or TLS.
    public_url: str = ""
    #: Largest chat file or image a participant may upload.
    chat_max_file_bytes: int = 10 * 1024 * 1024
    #: How long a chat export download link (S6, `meeting.chatSynced`) works.
    chat_export_ttl_secs: int = 24 * 3600

    @property
    def public_base(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def live(self) -> LiveSettings:
        return LiveSettings(
            resume_grace_secs=self.resume_grace_secs,
            keep_alive_cap_secs=self.keep_alive_cap_secs,
            heartbeat_secs=self.session_heartbeat_secs,
            idle_timeout_secs=self.realtime_idle_timeout_secs,
        )

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL with an async driver, whatever form the operator wrote."""
        url = self.database_url.strip()
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'salon.db').resolve()}"
        for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix):]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
        return url
