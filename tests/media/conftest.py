"""A salon server with media on loopback, and peers that publish and receive media.

Everything here runs inside a private network namespace (scripts/test-netns), so ICE
only ever finds 127.0.0.1.
"""

from collections.abc import AsyncIterator, Iterator

import pytest

from salon.client import AdminClient
from tests.live import FAST, Meeting, admin_for
from tests.servers import SalonServer, cleanup, start

MEDIA_ENV = {**FAST, "SALON_ICE_HOSTS": "127.0.0.1"}


@pytest.fixture(scope="session")
def media_server() -> Iterator[SalonServer]:
    salon = start("", env=MEDIA_ENV)
    try:
        yield salon
        assert "Traceback" not in salon.log(), salon.log()
    finally:
        cleanup(salon)


@pytest.fixture
async def media_admin(media_server: SalonServer) -> AsyncIterator[AdminClient]:
    async with admin_for(media_server) as client:
        yield client


@pytest.fixture
async def media_room(media_server: SalonServer, media_admin: AdminClient
                     ) -> AsyncIterator[Meeting]:
    meeting = Meeting(media_server, media_admin, await media_admin.create_meeting(title="media"))
    try:
        yield meeting
    finally:
        await meeting.close()
