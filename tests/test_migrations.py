"""Migrations that add tables, on SQLite and PostgreSQL: each builds exactly the tables
the models describe, goes down to the revision before it (the tables are gone) and up
again."""

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

#: The tables a migration adds, and the revision before it.
ADDED = [
    pytest.param({"recordings"}, "0007", id="0008 recordings"),
    pytest.param({"session_transcripts", "session_summaries"}, "0008",
                 id="0009 transcripts and summaries"),
]


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


def _round_trip(connection: Any, tables: set[str], before: str) -> None:
    command.upgrade(alembic_config(connection), "head")
    differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if any(t in repr(d) for t in tables)] == []
    command.downgrade(alembic_config(connection), before)
    assert not tables & set(inspect(connection).get_table_names())
    command.upgrade(alembic_config(connection), "head")
    assert tables <= set(inspect(connection).get_table_names())


@pytest.mark.parametrize(("tables", "before"), ADDED)
async def test_added_tables_match_the_models_and_downgrade(settings: Settings,
                                                           tables: set[str],
                                                           before: str) -> None:
    database = Database(settings)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_round_trip, tables, before)
    finally:
        await database.dispose()
