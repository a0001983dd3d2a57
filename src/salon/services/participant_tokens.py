"""Participant tokens: HS256 JWTs a participant's client presents to join.

Claims: `sub` participant id, `mid` meeting id, `app` app id, `ver` the participant's
token version, `iat`/`exp`. Refreshing bumps the version and deleting removes the row, so
every earlier token stops verifying. The signing secret lives in the database so every
process of one deployment (server, CLI, other nodes) signs and verifies alike.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import Unauthorized
from salon.store.models import SigningKey

ALGORITHM = "HS256"


#: `{"alg":"HS256","typ":"JWT"}` as PyJWT writes it (sorted, compact), base64url-encoded.
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


class TokenSubject(Protocol):
    """What a token is about: a participant row, or one just added."""

    @property
    def id(self) -> str: ...
    @property
    def meeting_id(self) -> str: ...
    @property
    def app_id(self) -> str: ...
    @property
    def token_version(self) -> int: ...


@dataclass(frozen=True)
class TokenSigner:
    secret: str
    ttl_secs: int

    def mint(self, participant: TokenSubject) -> str:
        """The JWT PyJWT's `jwt.encode(claims, secret, "HS256")` would make, byte for byte.

        Built here because PyJWT re-examines the key on every call (is it a PEM or DER
        key? long enough?), which cost more than the signing on the add-participant path.
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": participant.id,
            "mid": participant.meeting_id,
            "app": participant.app_id,
            "ver": participant.token_version,
            "iat": now,
            "exp": now + self.ttl_secs,
        }
        # json.dumps as PyJWT calls it; orjson agrees for these ASCII ids, but no need to bet.
        payload = base64.urlsafe_b64encode(
            json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
        signing_input = _HEADER + b"." + payload
        signature = hmac.digest(self._key, signing_input, hashlib.sha256)
        return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()

    @cached_property
    def _key(self) -> bytes:
        return self.secret.encode()

    def claims(self, token: str) -> dict[str, Any]:
        """Verified claims, or Unauthorized with the reason a client can act on."""
        try:
            return jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "mid", "app", "ver", "exp"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("Participant token has expired; ask for a new one.") from error
        except jwt.InvalidTokenError as error:
            raise Unauthorized("Participant token is not valid.") from error


async def load_signer(db: AsyncSession, ttl_secs: int) -> TokenSigner:
    """The deployment's signer; the first caller on an empty database creates the secret."""
    key = await db.scalar(select(SigningKey).order_by(SigningKey.id).limit(1))
    if key is None:
        db.add(SigningKey(id=1, secret=secrets.token_urlsafe(48), created_at=utcnow()))
        try:
            await db.commit()
        except IntegrityError:  # another process made it first: use theirs
            await db.rollback()
        key = await db.scalar(select(SigningKey).order_by(SigningKey.id).limit(1))
        assert key is not None
    return TokenSigner(secret=key.secret, ttl_secs=ttl_secs)
