"""Participant tokens: HS256 JWTs a participant's client presents to join.

Claims: `sub` participant id, `mid` meeting id, `app` app id, `ver` the participant's
token version, `iat`/`exp`. Refreshing bumps the version and deleting removes the row, so
every earlier token stops verifying. The signing secret lives in the database so every
process of one deployment (server, CLI, other nodes) signs and verifies alike.
"""

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import Unauthorized
from salon.store.models import Participant, SigningKey

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenSigner:
    secret: str
    ttl_secs: int

    def mint(self, participant: Participant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": participant.id,
            "mid": participant.meeting_id,
            "app": participant.app_id,
            "ver": participant.token_version,
            "iat": now,
            "exp": now + self.ttl_secs,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

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
