"""Answers of the operations probes: `/readyz` (docs/observability.md)."""

from typing import Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import closed


@closed
class ReachCheck(TypedDict):
    """A dependency answered (`ok`) in `latency_ms`, or did not: `error` says why."""

    ok: bool
    latency_ms: float | None
    error: str | None


@closed
class MigrationCheck(TypedDict):
    """The schema's revision(s) in the database against the newest this version has."""

    ok: bool
    current: list[str]
    head: list[str]
    error: str | None


@closed
class ReadyChecks(TypedDict):
    database: ReachCheck
    migrations: MigrationCheck
    #: null when no `SALON_REDIS_URL` is set.
    redis: ReachCheck | None


@closed
class Ready(TypedDict):
    status: Literal["ready"]
    checks: ReadyChecks
