"""Readiness (`/readyz`): may a load balancer send this process traffic?

Ready when the database answers, its schema is at the newest migration this code knows
(a process started against a database another version migrated, or one whose migration
failed, is not), and — when `SALON_REDIS_URL` is set — Redis answers PING. Each check
has a deadline (`CHECK_TIMEOUT_SECS`), so a hung dependency makes the probe fail rather
than hang. Liveness (`/healthz`) checks none of this: a process whose database is down
is alive and should not be restarted for it.
"""

import asyncio
import time
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from alembic.script import ScriptDirectory
from sqlalchemy import text

from salon.store.database import Database
from salon.store.migrate import alembic_config

CHECK_TIMEOUT_SECS = 2.0


@cache
def migration_heads() -> tuple[str, ...]:
    """The newest migration revision(s) of this code."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


@dataclass
class Readiness:
    checks: dict[str, Any]
    failures: list[str]

    @property
    def ready(self) -> bool:
        return not self.failures


async def readiness(database: Database, redis_url: str) -> Readiness:
    """Run every check (at once) and say which failed, and why, in words."""
    failures: list[str] = []
    database_check, redis_check = await asyncio.gather(
        _database(database), _redis(redis_url) if redis_url else _absent())
    checks: dict[str, Any] = {"database": database_check["database"],
                              "migrations": database_check["migrations"],
                              "redis": redis_check}
    for name in ("database", "migrations", "redis"):
        check = checks[name]
        if check is not None and not check["ok"]:
            failures.append(f"{name}: {check['error']}")
    return Readiness(checks, failures)


async def _absent() -> None:
    return None


async def _database(database: Database) -> dict[str, Any]:
    heads = list(migration_heads())
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECS):
            async with database.engine.connect() as connection:
                rows = (await connection.execute(
                    text("SELECT version_num FROM alembic_version"))).scalars().all()
    except TimeoutError:
        error = f"no answer within {CHECK_TIMEOUT_SECS:g} s"
        return {"database": _failed(error), "migrations": _failed("database unreachable",
                                                                   heads=heads)}
    except Exception as failure:  # unreachable, refused, no alembic_version table…
        error = _describe(failure)
        return {"database": _failed(error),
                "migrations": _failed("database unreachable", heads=heads)}
    latency = round((time.perf_counter() - started) * 1000, 2)
    current = sorted(rows)
    migrations: dict[str, Any] = {"ok": current == heads, "current": current, "head": heads,
                                  "error": None}
    if current != heads:
        migrations["error"] = (f"the schema is at {', '.join(current) or 'no revision'}, "
                               f"this version needs {', '.join(heads)}")
    return {"database": {"ok": True, "latency_ms": latency, "error": None},
            "migrations": migrations}


def _failed(error: str, **more: Any) -> dict[str, Any]:
    if "heads" in more:
        return {"ok": False, "current": [], "head": more["heads"], "error": error}
    return {"ok": False, "latency_ms": None, "error": error}


def _describe(failure: BaseException) -> str:
    """One line, naming the kind of failure; the driver's text may quote a URL, so it is
    cut at its first line (and log lines are masked anyway)."""
    first = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
    return f"{type(failure).__name__}: {first[:200]}" if first else type(failure).__name__


async def _redis(url: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECS):
            await ping_redis(url)
    except TimeoutError:
        return _failed(f"no answer within {CHECK_TIMEOUT_SECS:g} s")
    except Exception as failure:
        return _failed(_describe(failure))
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "error": None}


class RedisError(Exception):
    pass


async def ping_redis(url: str) -> None:
    """PING over RESP (with AUTH and SELECT first when the URL names them); raises
    unless Redis answers +PONG. `redis://[[user]:password@]host[:port][/db]`;
    `rediss://` (TLS) too."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise RedisError("SALON_REDIS_URL must start with redis:// or rediss://")
    reader, writer = await asyncio.open_connection(
        parts.hostname or "127.0.0.1", parts.port or 6379, ssl=parts.scheme == "rediss")
    try:
        commands: list[list[str]] = []
        if parts.password is not None:
            auth = [unquote(parts.password)]
            if parts.username:
                auth.insert(0, unquote(parts.username))
            commands.append(["AUTH", *auth])
        db = parts.path.strip("/")
        if db:
            commands.append(["SELECT", db])
        commands.append(["PING"])
        for command in commands:
            writer.write(_resp(command))
        await writer.drain()
        for command in commands:
            answer = (await reader.readline()).decode(errors="replace").strip()
            if not answer:
                raise RedisError("the connection closed without an answer")
            if answer.startswith("-"):
                raise RedisError(f"{command[0]} refused: {answer[1:][:200]}")
        if answer != "+PONG":
            raise RedisError(f"PING answered {answer[:50]!r}")
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except Exception:
            pass


def _resp(command: list[str]) -> bytes:
    out = [f"*{len(command)}\r\n".encode()]
    for part in command:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)
