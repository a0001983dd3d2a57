"""Operator API tokens: account-wide like Cloudflare's, or scoped to one app.

A token is `salon_` followed by 32 random bytes in URL-safe base64; only its SHA-256 is
stored, so a database leak does not leak tokens. SHA-256 rather than a slow password hash
because the secret is random and long: there is nothing to brute-force.
"""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import NotFound, Unauthorized
from salon.core.ids import new_hex_id
from salon.store.models import ApiToken, App

TOKEN_PREFIX = "salon_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: str
    account_id: str
    app_id: str | None
    name: str
    secret: str


async def create(
    db: AsyncSession, account_id: str, *, app_id: str | None = None, name: str = "default"
) -> IssuedToken:
    if app_id is not None:
        app = await db.get(App, app_id)
        if app is None or app.account_id != account_id:
            raise NotFound(f"App {app_id} does not exist in account {account_id}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        id=new_hex_id(),
        account_id=account_id,
        app_id=app_id,
        name=name,
        token_hash=token_hash(secret),
        created_at=utcnow(),
    )
    db.add(row)
    await db.commit()
    return IssuedToken(row.id, account_id, app_id, name, secret)


async def revoke(db: AsyncSession, token_id_or_secret: str) -> ApiToken:
    """Revoke by token id, or by the token itself when that is what the operator has."""
    row = await db.get(ApiToken, token_id_or_secret)
    if row is None:
        row = await db.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_hash(token_id_or_secret))
        )
    if row is None:
        raise NotFound("No API token with that id.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await db.commit()
    return row


async def list_all(db: AsyncSession) -> list[ApiToken]:
    return list(await db.scalars(select(ApiToken).order_by(ApiToken.created_at)))


def parse_bearer(authorization: str | None) -> str:
    """The credential of an `Authorization: Bearer …` header."""
    if not authorization:
        raise Unauthorized("Missing Authorization header: send 'Authorization: Bearer <API token>'.")
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthorized("Authorization must be 'Bearer <API token>'.")
    return credential


async def list_page(db: AsyncSession, account_id: str, only_app: str | None, offset: int,
                    limit: int) -> tuple[list[ApiToken], int]:
    """The account's tokens, oldest first; an app-scoped caller sees its app's tokens only."""
    query = select(ApiToken).where(ApiToken.account_id == account_id)
    if only_app is not None:
        query = query.where(ApiToken.app_id == only_app)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(query.order_by(ApiToken.created_at, ApiToken.id)
                            .offset(offset).limit(limit))
    return list(rows), total


async def revoke_visible(db: AsyncSession, account_id: str, only_app: str | None,
                         token_id: str) -> ApiToken:
    """Revoke one token by id, if the caller may see it (else NotFound, as if absent).
    Revoking a revoked token changes nothing."""
    row = await db.get(ApiToken, token_id)
    if row is None or row.account_id != account_id or (
            only_app is not None and row.app_id != only_app):
        raise NotFound(f"API token {token_id} not found.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await db.commit()
    return row
