"""API token grants and revocation in the server process (services/grants.py), against
the real database of a test server on both backends."""

import asyncio
from pathlib import Path

import pytest

from salon.core.errors import Unauthorized
from salon.services import api_tokens
from salon.services.api_tokens import token_hash
from salon.services.grants import Grants
from salon.settings import Settings
from salon.store.database import Database
from tests.servers import SalonServer


async def test_a_lookup_in_flight_when_the_token_is_revoked_is_not_cached(
        server: SalonServer) -> None:
    """The lookup reads the row before the revocation is saved and finishes after
    `forget`: it must not put the token back in the cache (for `ttl`)."""
    database = Database(Settings(data_dir=Path(server.data_dir),
                                 database_url=server.database_url))
    try:
        async with database.session() as db:
            issued = await api_tokens.create(db, server.account_id, name="in flight")
        grants = Grants(database, ttl=30)  # long: a cached grant would outlive the test
        bearer = f"Bearer {issued.secret}"
        assert (await grants.grant(bearer)).token_id == issued.id
        grants._grants.clear()  # the entry expired: the next request looks it up again

        racing = asyncio.ensure_future(grants.grant(bearer))
        await asyncio.sleep(0)  # the lookup is in flight
        # The revoking request, in this process: `forget` while the lookup is still to
        # read the row, which it then finds not revoked (the revocation is saved later
        # here, so that the lookup certainly reads the row before it).
        grants.forget(token_hash(issued.secret))
        with pytest.raises(Unauthorized):
            await racing  # started before the revocation: refused all the same
        async with database.session() as db:
            await api_tokens.revoke(db, issued.id)
        with pytest.raises(Unauthorized) as after:
            await grants.grant(bearer)
        assert after.value.message == "Invalid or revoked API token."
    finally:
        await database.dispose()
