"""Media tests use the root fixtures (`admin`, `room`) on a server that also gathers ICE
candidates on loopback. Everything here runs inside a private network namespace
(scripts/test-netns), so ICE only ever finds 127.0.0.1."""

from collections.abc import AsyncIterator, Iterator

import pytest

from salon.client.media import MediaSession
from tests.live import FAST
from tests.servers import SalonServer, running

#: A short grace before a revoked kind's packets are refused at RTP level (default 10 s),
#: and a video cap that is not the default (1234000 is exact in REMB's mantissa/exponent).
MEDIA_ENV = {**FAST, "SALON_ICE_HOSTS": "127.0.0.1", "SALON_MEDIA_REVOKE_GRACE_SECS": "0.5",
             "SALON_MEDIA_MAX_VIDEO_BITRATE": "1234000"}


@pytest.fixture(scope="session")
def live_server() -> Iterator[SalonServer]:
    """Overrides the root fixture for this folder: the same server, media on loopback."""
    with running("", env=MEDIA_ENV) as salon:
        yield salon


@pytest.fixture
async def sessions() -> AsyncIterator[list[MediaSession]]:
    """Media sessions a test opens (append them), closed after it."""
    made: list[MediaSession] = []
    yield made
    for session in made:
        await session.close()
