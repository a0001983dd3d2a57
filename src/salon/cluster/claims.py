"""Which node holds each background job, and taking over the jobs of nodes that are gone.

A job (a recording, a meeting's livestream session, a transcript, a summary) is a row.
A node claims it with a conditional UPDATE that sets `claimed_at` and `claimed_by` (its
node id) only where `claimed_at` is still null: of several claimers, on one node or many,
exactly one sees the row change, and only that one runs the job.

Claims outlive the processes that made them, so each job module sweeps: at start, and
every few heartbeats after, it releases (or, for work that cannot be resumed, ends) the
claims that no node holds any more:

- one node (no Redis): at start every claim, since this process is the only claimer
  there is and it has just started; never later (today's behaviour);
- a cluster: claims of nodes whose registry entry is gone (`registry.live_nodes`: a node
  stopped without cleaning up or killed drops out within three heartbeats), claims
  without a node id (made before claims had one), and this node's own claims that it
  does not run (left by an earlier process with the same `SALON_NODE_ID`), which at a
  periodic sweep must also be older than `grace_secs`: a claim is committed a moment
  before its job is registered as running. When Redis does not answer nobody can tell
  a dead node from a live one, so nothing is released until it does.

A released job is queued again and another node runs it (at least once, not exactly
once: a job that dies half-way is run again from its start). A job that goes on where it
was rather than starting again (a recording carried on with its meeting) changes hands
with `take_over`, a compare-and-set on `claimed_by` and `claimed_at`. A node that finds one of
its running jobs claimed by someone else (it was cut off from Redis long enough to be
counted dead) drops it; see `holds`.
"""

import logging
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import ColumnElement, Select, and_, or_, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from salon.cluster.registry import NodeRegistry, live_nodes, new_node_id
from salon.core.clock import utcnow

log = logging.getLogger("salon.cluster.claims")

#: Sweeps happen every this many heartbeats (a dead node's entry lives three).
SWEEP_BEATS = 3


class ClaimLost(Exception):
    """Another node released this node's claim (it counted this node dead) and may
    run the job: this node must stop running it and leave the row alone."""


class JobClaims:
    """This node's side of job claiming: its id, and who else is alive."""

    def __init__(self, node_id: str, redis: Redis | None = None, cluster: str = "salon",
                 sweep_secs: float = 6.0, grace_secs: float | None = None) -> None:
        self.node_id = node_id
        self.redis = redis
        self.cluster = cluster
        self.sweep_secs = sweep_secs
        #: How old this node's own claim must be before a periodic sweep may call it stale.
        self.grace_secs = grace_secs if grace_secs is not None else max(10.0, 2 * sweep_secs)
        self._swept: dict[str, float] = {}
        #: The node's registry entry, whose `draining` says the node is stopping.
        self._registry: NodeRegistry | None = None

    @classmethod
    def for_node(cls, node: NodeRegistry | None) -> "JobClaims":
        """The claims of the node `app.state.node` describes; without Redis a process of
        its own (an id that no other process has)."""
        if node is None:
            return cls(new_node_id())
        claims = cls(node.node_id, node.redis, node.cluster,
                     sweep_secs=SWEEP_BEATS * node.heartbeat_secs)
        claims._registry = node
        return claims

    @property
    def draining(self) -> bool:
        """Whether this node is stopping (SIGTERM, `joining.begin_draining`): it takes no
        new job and carries none on. Its websockets close before its rooms are handed
        over, so a recorder here loses its meeting and lets its recording go while the
        room is still here: taken back here, it would start a recorder that cannot join."""
        return self._registry is not None and self._registry.draining

    @property
    def clustered(self) -> bool:
        return self.redis is not None

    def stamp(self) -> dict[str, Any]:
        """The columns of a claim by this node, now."""
        return {"claimed_by": self.node_id, "claimed_at": utcnow()}

    def holds(self, row: Any) -> bool:
        """Whether this node still holds the claim on `row`: false once another node
        released it (and maybe claimed it) while counting this one dead."""
        return row.claimed_by == self.node_id

    def due(self, kind: str) -> bool:
        """Whether the periodic sweep of `kind` (a name of the caller's) is due; the
        first call, at start, is not (`orphaned(..., starting=True)` is that sweep)."""
        now = time.monotonic()
        last = self._swept.setdefault(kind, now)
        if now - last < self.sweep_secs:
            return False
        self._swept[kind] = now
        return True

    async def claim(self, db: AsyncSession, model: Any, key: Any, value: str,
                    *where: ColumnElement[bool]) -> bool:
        """Claim the job whose `key` column is `value`, if still free and `where` holds;
        commits. Whether this node got it."""
        result = await db.execute(update(model).where(
            key == value, model.claimed_at.is_(None), *where).values(**self.stamp()))
        await db.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def take_over(self, db: AsyncSession, model: Any, key: Any, value: str,
                        previous: str | None, since: datetime | None,
                        *where: ColumnElement[bool]) -> bool:
        """Move the claim on the job whose `key` is `value` from `previous` (a node that
        is gone), which made it at `since` (the row's `claimed_at` as read), to this
        node, only while that claim still stands and `where` holds; commits. Of several
        takers of the same claim at once (a sweep that would end the job and the node
        that carries it on, or two of either, or two tasks of one node taking over its
        own predecessor's claim: `previous` is then this node's id) exactly one sees the
        row change: the new claim's `claimed_at` differs, and PostgreSQL re-checks the
        condition on the row the first one committed. Whether this node got it."""
        held = model.claimed_by.is_(None) if previous is None else model.claimed_by == previous
        made = model.claimed_at.is_not(None) if since is None else model.claimed_at == since
        return await self.claim_from(db, model, key, value, and_(made, held), *where)

    async def claim_from(self, db: AsyncSession, model: Any, key: Any, value: str,
                         held: ColumnElement[bool], *where: ColumnElement[bool]) -> bool:
        """Take over the job whose `key` column is `value` while its claim is `held` as
        it was (say, `orphaned`: by a node that is gone) and `where` holds; commits.
        Of several nodes taking it (or one taking it while another ends it), exactly one
        sees the row change."""
        result = await db.execute(update(model).where(key == value, held, *where)
                                  .values(**self.stamp()))
        await db.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def claim_queued(self, db: AsyncSession, model: Any, key: Any, queued: Select[Any],
                           *where: ColumnElement[bool]) -> list[str]:
        """Claim the jobs `queued` selects (their `key` values, oldest first, at most as
        many as may start), each only if still free and `where` holds. The ones won."""
        won = []
        for value in list(await db.scalars(queued)):
            if await self.claim(db, model, key, value, *where):
                won.append(value)
        return won

    async def orphaned(self, model: Any, key: Any, running: Collection[str], *,
                       starting: bool) -> ColumnElement[bool] | None:
        """A condition on `model`'s rows: claimed, and by no node that still holds it
        (see the module's docstring). `running` are the `key` values of the jobs this
        node runs. None: nothing may be released now."""
        claimed = model.claimed_at.is_not(None)
        mine_idle = key.not_in(list(running)) if running else claimed
        if not self.clustered:
            return and_(claimed, mine_idle) if starting else None
        try:
            live = {node.id for node in await live_nodes(self.redis, self.cluster)}  # type: ignore[arg-type]
        except Exception as error:  # Redis away: a dead node cannot be told from a live one
            log.warning("cannot list the cluster's nodes; no job is taken over: %s", error)
            return None
        live.discard(self.node_id)
        # Spelled out for SQL's three-valued logic: `NULL NOT IN (…)` is not true.
        others_gone = or_(model.claimed_by.is_(None), and_(
            model.claimed_by != self.node_id,
            model.claimed_by.not_in(sorted(live)) if live else true()))
        mine_stale = and_(model.claimed_by == self.node_id, mine_idle)
        if not starting:
            mine_stale = and_(mine_stale, model.claimed_at
                              < utcnow() - timedelta(seconds=self.grace_secs))
        return and_(claimed, or_(others_gone, mine_stale))

    async def release(self, db: AsyncSession, model: Any, orphaned: ColumnElement[bool],
                      *where: ColumnElement[bool]) -> int:
        """Free the claims `orphaned` matches (and `where`): their jobs queue again.
        Commits; how many were released."""
        result = await db.execute(update(model).where(orphaned, *where)
                                  .values(claimed_by=None, claimed_at=None))
        await db.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
