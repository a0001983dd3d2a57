"""Migration 0009 (session transcripts and summaries) on SQLite and PostgreSQL: it builds
exactly the tables the models describe, and goes down to 0008 and up again."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from salon.settings import Settings
from salon.store.database import Database
from salon.store.migrate import alembic_config
from salon.store.models import Base
from tests.servers import ThrowawayPostgres

TABLES = {"session_transcripts", "session_summaries"}


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path)
        return
    database = ThrowawayPostgres()
    try:
        yield Settings(data_dir=tmp_path, database_url=database.url)
    finally:
        database.drop()


def _round_trip(connection: Any) -> None:
    command.upgrade(alembic_config(connection), "head")
    differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if any(t in repr(d) for t in TABLES)] == []
    command.downgrade(alembic_config(connection), "0008")
    assert not TABLES & set(inspect(connection).get_table_names())
    command.upgrade(alembic_config(connection), "head")
    assert TABLES <= set(inspect(connection).get_table_names())


async def test_transcript_tables_match_the_models_and_downgrade(settings: Settings) -> None:
    database = Database(settings)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_round_trip)
    finally:
        await database.dispose()
