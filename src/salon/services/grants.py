"""What an API token grants, looked up once and remembered briefly.

Every REST request authenticates; looking the token and the app up in the database each
time was a third of a small request's cost. Grants are cached for `ttl` seconds, so a
revocation (made by the CLI, in another process) takes effect within that time; apps
cannot be deleted, so what account an app belongs to is remembered for good.

In a cluster a revocation made over REST on one node reaches the others at once: the
node publishes the token's hash on the Redis channel `{cluster}:grants`, and every node
drops it from its cache (`join`). If Redis is away the message is lost and the other
nodes fall back on the `ttl`.
"""

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy import select

from salon.core.errors import NotFound, Unauthorized
from salon.deadline import within
from salon.services.api_tokens import parse_bearer, token_hash
from salon.store.database import Database
from salon.store.models import ApiToken, App

log = logging.getLogger("salon.grants")

MAX_ENTRIES = 10_000
#: What a revocation message holds: a token hash (`api_tokens.token_hash`, SHA-256 hex).
DIGEST = re.compile(r"[0-9a-f]{64}")
#: How long the listener waits before subscribing again after losing Redis.
RESUBSCRIBE_SECS = 1.0


def channel(cluster: str) -> str:
    return f"{cluster}:grants"


@dataclass(frozen=True)
class Grant:
    """A live API token: the account it belongs to and, if scoped, its one app."""

    token_id: str
    account_id: str
    app_id: str | None


@dataclass(frozen=True)
class AppRef:
    id: str
    account_id: str
    name: str


class Grants:
    def __init__(self, database: Database, ttl: float = 1.0) -> None:
        self.database = database
        self.ttl = ttl
        self._grants: dict[str, tuple[Grant, float]] = {}
        self._apps: dict[str, AppRef] = {}
        self._lookups: dict[str, asyncio.Future[Grant | None]] = {}
        #: Tokens this process revoked: a lookup that read the row before the revocation
        #: was saved must neither cache nor grant it.
        self._revoked: set[str] = set()
        #: The cluster's Redis and channel, once `join`ed.
        self._redis: Redis | None = None
        self._channel = ""
        self._listener: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()

    async def grant(self, authorization: str | None) -> Grant:
        digest = token_hash(parse_bearer(authorization))
        cached = self._grants.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        # One lookup per token at a time: when the entry expires under load, every
        # request in flight would otherwise query the database for the same row.
        lookup = self._lookups.get(digest)
        if lookup is None:
            lookup = asyncio.ensure_future(self._lookup(digest))
            self._lookups[digest] = lookup
            lookup.add_done_callback(
                lambda done: self._lookups.pop(digest, None)
                if self._lookups.get(digest) is done else None)
        grant = await asyncio.shield(lookup)  # a caller that gives up leaves it running
        if grant is None:
            raise Unauthorized("Invalid or revoked API token.")
        return grant

    def forget(self, digest: str) -> None:
        """A token revoked by this process stops working at once, not after `ttl`: its
        cached grant goes, and so does a lookup in flight, which may have read the row
        before the revocation was saved and would otherwise cache it again. In a
        cluster every other node is told to do the same."""
        self._drop(digest)
        if self._redis is not None:
            task = asyncio.create_task(self._publish(digest), name="grant revoked")
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

    def _drop(self, digest: str) -> None:
        self._grants.pop(digest, None)
        self._lookups.pop(digest, None)
        if len(self._revoked) >= MAX_ENTRIES:
            self._revoked.clear()  # the database has the revocations by now
        self._revoked.add(digest)

    # --- the cluster -----------------------------------------------------------------------

    async def join(self, redis: Redis | None, cluster: str) -> None:
        """Hear the revocations of the other nodes of `cluster` (none without Redis)."""
        if redis is None:
            return
        self._redis, self._channel = redis, channel(cluster)
        subscribed = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(subscribed), name="grant revocations")
        with contextlib.suppress(TimeoutError):  # Redis away: the listener keeps trying
            await within(subscribed.wait(), 2.0)

    async def leave(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await asyncio.gather(*self._publishing, return_exceptions=True)
        self._redis = None

    async def _publish(self, digest: str) -> None:
        assert self._redis is not None
        try:
            await self._redis.publish(self._channel, digest)
        except Exception as error:  # the other nodes fall back on the ttl
            log.warning("cannot tell the cluster about a revoked API token: %s", error)

    async def _listen(self, subscribed: asyncio.Event) -> None:
        assert self._redis is not None
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                subscribed.set()
                async for message in pubsub.listen():
                    data = message.get("data")
                    if message.get("type") != "message" or not isinstance(data, bytes):
                        continue
                    digest = data.decode("ascii", "replace")
                    if DIGEST.fullmatch(digest):  # anything else is not ours: ignored
                        self._drop(digest)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("lost the cluster's grant revocations, subscribing again: %s",
                            error)
                # Revocations may have been missed meanwhile: look every token up again.
                self._grants.clear()
            finally:
                # bounded: closing a subscription whose read was just cancelled can wait
                # forever, and a node must never hang in its shutdown
                with contextlib.suppress(BaseException):
                    await within(pubsub.aclose(), 1.0)
            await asyncio.sleep(RESUBSCRIBE_SECS)

    async def _lookup(self, digest: str) -> Grant | None:
        now = time.monotonic()
        async with self.database.session() as db:
            row = await db.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None or row.revoked_at is not None or digest in self._revoked:
            self._grants.pop(digest, None)
            return None
        grant = Grant(row.id, row.account_id, row.app_id)
        if len(self._grants) >= MAX_ENTRIES:
            self._grants.clear()
        self._grants[digest] = (grant, now + self.ttl)
        return grant

    async def app(self, grant: Grant, account_id: str, app_id: str) -> AppRef:
        """The app a request addresses, if the grant reaches it; otherwise 404, as if absent."""
        if grant.account_id != account_id:
            raise NotFound(f"Account {account_id} not found.")
        if grant.app_id is not None and grant.app_id != app_id:
            raise NotFound(f"App {app_id} not found.")
        app = self._apps.get(app_id)
        if app is None:
            async with self.database.session() as db:
                row = await db.get(App, app_id)
            if row is None:
                raise NotFound(f"App {app_id} not found.")
            app = AppRef(row.id, row.account_id, row.name)
            if len(self._apps) >= MAX_ENTRIES:
                self._apps.clear()
            self._apps[app_id] = app
        if app.account_id != account_id:
            raise NotFound(f"App {app_id} not found.")
        return app
