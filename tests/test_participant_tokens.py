"""Participant tokens: what they carry, and the one service function that verifies them."""

import asyncio
import time
from pathlib import Path

import httpx
import jwt
import pytest

from salon.core.errors import Unauthorized
from salon.services import participant_tokens, participants
from salon.services.participants import Admitted
from salon.settings import Settings
from salon.store.database import Database
from tests.servers import SalonServer


def admit(server: SalonServer, token: str) -> Admitted:
    """Verify a token in-process against the server's own database, as the gateway will."""

    async def run() -> Admitted:
        database = Database(Settings(data_dir=Path(server.data_dir),
                                     database_url=server.database_url))
        try:
            async with database.session() as db:
                signer = await participant_tokens.load_signer(db, 3600)
                return await participants.admit(db, signer, token)
        finally:
            await database.dispose()

    return asyncio.run(run())


def refused(server: SalonServer, token: str) -> str:
    with pytest.raises(Unauthorized) as error:
        admit(server, token)
    return error.value.message


@pytest.fixture
def participant(http: httpx.Client, meeting: dict) -> dict:
    response = http.post(f"/meetings/{meeting['id']}/participants",
                         json={"custom_participant_id": "tok-user", "preset_name": "webinar_viewer",
                               "name": "Grace"})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_token_claims(server: SalonServer, meeting: dict, participant: dict) -> None:
    claims = jwt.decode(participant["token"], options={"verify_signature": False})
    assert claims["sub"] == participant["id"]
    assert claims["mid"] == meeting["id"]
    assert claims["app"] == server.app_id
    assert claims["ver"] == 1
    assert claims["exp"] > time.time() + 3600


def test_admit_returns_participant_with_effective_preset(
    server: SalonServer, http: httpx.Client, meeting: dict, participant: dict
) -> None:
    admitted = admit(server, participant["token"])
    assert admitted.participant.id == participant["id"]
    assert admitted.meeting.id == meeting["id"]
    assert admitted.preset.name == "webinar_viewer"
    assert admitted.permissions.stage_access == "CAN_REQUEST"
    assert admitted.config.view_type == "WEBINAR"

    # A preset change applies to the existing token: the token names the participant only.
    url = f"/meetings/{meeting['id']}/participants/{participant['id']}"
    assert http.patch(url, json={"preset_name": "group_call_host"}).status_code == 200
    admitted = admit(server, participant["token"])
    assert admitted.preset.name == "group_call_host"
    assert admitted.permissions.kick_participant is True


def test_refresh_revokes_earlier_tokens(
    server: SalonServer, http: httpx.Client, meeting: dict, participant: dict
) -> None:
    url = f"/meetings/{meeting['id']}/participants/{participant['id']}/token"
    first = http.post(url).json()["data"]["token"]
    second = http.post(url).json()["data"]["token"]
    assert "newer" in refused(server, participant["token"])
    assert "newer" in refused(server, first)
    assert admit(server, second).participant.id == participant["id"]


def test_delete_revokes_tokens(
    server: SalonServer, http: httpx.Client, meeting: dict, participant: dict
) -> None:
    assert http.delete(f"/meetings/{meeting['id']}/participants/{participant['id']}") \
        .status_code == 200
    assert "removed" in refused(server, participant["token"])


def test_forged_and_expired_tokens(server: SalonServer, participant: dict) -> None:
    claims = jwt.decode(participant["token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-secret-but-long-enough-for-hs256", algorithm="HS256")
    assert "not valid" in refused(server, forged)
    assert "not valid" in refused(server, participant["token"][:-4] + "AAAA")
    assert "not valid" in refused(server, "garbage")
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert "not valid" in refused(server, unsigned)

    async def mint_expired() -> str:
        database = Database(Settings(data_dir=Path(server.data_dir),
                                     database_url=server.database_url))
        try:
            async with database.session() as db:
                signer = await participant_tokens.load_signer(db, ttl_secs=-10)
                row, _ = await participants.get(db, server.app_id, claims["mid"], claims["sub"])
                return signer.mint(row)
        finally:
            await database.dispose()

    assert "expired" in refused(server, asyncio.run(mint_expired()))


def test_minted_tokens_are_what_pyjwt_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`TokenSigner.mint` builds the JWT itself (for speed): byte for byte PyJWT's HS256."""
    monkeypatch.setattr(participant_tokens.time, "time", lambda: 1_795_000_000.7)
    signer = participant_tokens.TokenSigner(secret="s3cret-" * 8, ttl_secs=3600)
    row = participants.Added(
        id="5f0c7c4e-1f7e-4a51-9d55-6f3b1e0d2a11", app_id="0123456789abcdef0123456789abcdef",
        meeting_id="a1b2c3d4-0000-4000-8000-000000000000", custom_participant_id="c",
        name=None, picture=None, token_version=7, created_at=None,  # type: ignore[arg-type]
        updated_at=None, preset_name="p")  # type: ignore[arg-type]
    claims = {"sub": row.id, "mid": row.meeting_id, "app": row.app_id, "ver": 7,
              "iat": 1_795_000_000, "exp": 1_795_003_600}
    assert signer.mint(row) == jwt.encode(claims, signer.secret, algorithm="HS256")
    assert jwt.decode(signer.mint(row), signer.secret, algorithms=["HS256"],
                      options={"verify_exp": False}) == claims
