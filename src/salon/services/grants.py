"""What an API token grants, looked up once and remembered briefly.

Every REST request authenticates; looking the token and the app up in the database each
time was a third of a small request's cost. Grants are cached for `ttl` seconds, so a
revocation (made by the CLI, in another process) takes effect within that time; apps
cannot be deleted, so what account an app belongs to is remembered for good.
"""

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import select

from salon.core.errors import NotFound, Unauthorized
from salon.services.api_tokens import parse_bearer, token_hash
from salon.store.database import Database
from salon.store.models import ApiToken, App

MAX_ENTRIES = 10_000


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
        before the revocation was saved and would otherwise cache it again."""
        self._grants.pop(digest, None)
        self._lookups.pop(digest, None)
        if len(self._revoked) >= MAX_ENTRIES:
            self._revoked.clear()  # the database has the revocations by now
        self._revoked.add(digest)

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
