"""Settings from the environment (`SALON_*`), overridable by CLI flags."""

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    log_level: str = "info"

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
