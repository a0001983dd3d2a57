"""How the `salon` command opens the database (`serve` and every admin command): what
stops it (a data directory that is a file, a PostgreSQL server that does not answer, a
database not created yet) is one line saying what to do, not a traceback.

No message names the database URL whole: it may hold a password.
"""

import errno
import socket

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from salon.settings import Settings
from salon.store.database import Database

#: PostgreSQL's SQLSTATE for a database that does not exist (invalid_catalog_name).
NO_SUCH_DATABASE = "3D000"


async def open_database(settings: Settings) -> Database:
    """The database, its first connection made (and kept in the pool); a click error
    naming the problem when that cannot be."""
    directory = settings.data_dir
    if directory.exists() and not directory.is_dir():
        raise click.ClickException(f"The data directory {directory} is not a directory "
                                   "(--data-dir, SALON_DATA_DIR).")
    try:
        database = Database(settings)  # on SQLite, creates the data directory
    except OSError as error:
        raise click.ClickException(f"Cannot create the data directory {directory}: "
                                   f"{error.strerror or error}.") from error
    try:
        async with database.engine.connect():
            pass
    except (OSError, DBAPIError) as error:
        await database.dispose()
        raise click.ClickException(connect_problem(settings, error)) from error
    return database


async def check_database(settings: Settings) -> None:
    """For `salon serve`, before it starts: the same checks, the connection closed again
    (the server opens its own; a failure there would be a logged traceback)."""
    await (await open_database(settings)).dispose()


def connect_problem(settings: Settings, error: OSError | DBAPIError) -> str:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        reason = error.orig if isinstance(error, DBAPIError) else error.strerror or error
        return f"Cannot open the SQLite database {url.database}: {reason}."
    host, port = url.host or "localhost", url.port or 5432
    where = f"{host}:{port}"
    if isinstance(error, DBAPIError):
        if getattr(error.orig, "sqlstate", None) == NO_SUCH_DATABASE:
            user = f" -U {url.username}" if url.username else ""
            return (f'The PostgreSQL server at {where} has no database "{url.database}": '
                    f"create it (createdb -h {host} -p {port}{user} {url.database}) "
                    "or fix the database URL.")
        return f"The PostgreSQL server at {where} refused the connection: {error.orig}."
    return (f"Cannot reach the PostgreSQL server at {where} ({_reason(error)}): is it "
            "running, and are the database URL's host and port right?")


def _reason(error: OSError) -> str:
    refused = f"[Errno {errno.ECONNREFUSED}]"
    if isinstance(error, ConnectionRefusedError) or (  # every address of a name refused
            str(error).startswith("Multiple exceptions") and str(error).count(refused)
            == str(error).count("[Errno")):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, TimeoutError):
        return "timed out"
    return error.strerror or str(error) or type(error).__name__
