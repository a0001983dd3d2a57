"""API tokens over REST (a salon extension, used by the dashboard): list, create, revoke.

Account-level routes, beside `/apps`. An account-wide token sees and manages every token
of its account; an app-scoped token only the tokens of its own app, and it can never mint
an account-wide token (that would widen its own reach). Secrets are shown once, in the
answer that creates them; only their SHA-256 is stored (`services.api_tokens`).
"""

from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import Field

from salon.api.deps import Db, NoBody, Paged, Token
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import PagedSuccess, Success, errors
from salon.api.schemas.tokens import ApiToken, CreatedApiToken, VerifiedToken
from salon.core.clock import isoformat
from salon.core.errors import Forbidden, NotFound
from salon.core.names import token_name
from salon.core.schema import Strict, text
from salon.services import api_tokens
from salon.services.grants import Grant
from salon.store.models import ApiToken as ApiTokenRow

router = APIRouter(prefix="/api_tokens", tags=["api tokens"])
#: Outside the account prefix, at Cloudflare's path: how a client holding only a token
#: (the dashboard at sign-in) learns which account, and which app, it reaches.
user_router = APIRouter(tags=["api tokens"])


class NewToken(Strict):
    #: A label for people ("ci", "dashboard"); need not be unique.
    name: Annotated[text(255, min_length=1, name=True), Field()] = "dashboard"
    #: Scope the token to this app; `null` or left out: account-wide.
    app_id: text(64, min_length=1, name=True) | None = None


def _wire(row: ApiTokenRow) -> dict:
    return {"id": row.id, "name": row.name, "app_id": row.app_id,
            "status": "REVOKED" if row.revoked_at else "ACTIVE",
            "created_at": isoformat(row.created_at), "revoked_at": isoformat(row.revoked_at)}


def _account(token: Grant, account_id: str) -> None:
    if token.account_id != account_id:
        raise NotFound(f"Account {account_id} not found.")


@router.get("", summary="List API tokens (never their secrets)",
            response_model=PagedSuccess[list[ApiToken]])
async def list_tokens(account_id: str, db: Db, token: Token, page: Paged) -> Envelope:
    _account(token, account_id)
    rows, total = await api_tokens.list_page(db, account_id, token.app_id, page.offset,
                                             page.per_page)
    return ok([_wire(row) for row in rows], paging=page.paging(total, len(rows)))


@router.post("", summary="Create an API token (its secret is in this answer only)",
             status_code=201, response_model=Success[CreatedApiToken], responses=errors(403))
async def create_token(account_id: str, request: Request, db: Db, token: Token,
                       body: Annotated[NewToken | None, Body()] = None) -> Envelope:
    _account(token, account_id)
    body = body or NewToken()  # every field is optional: no body is fine
    if body.app_id is None and token.app_id is not None:
        raise Forbidden("This API token is scoped to one app and cannot create "
                        "account-wide tokens; give 'app_id'.")
    if body.app_id is not None:  # 404 for an app the caller does not reach, or none
        await request.app.state.grants.app(token, account_id, body.app_id)
    name = token_name(body.name)  # the length and characters pydantic checked; not blank
    issued = await api_tokens.create(db, account_id, app_id=body.app_id, name=name)
    row = await db.get(ApiTokenRow, issued.id)
    assert row is not None
    return ok({**_wire(row), "token": issued.secret}, status_code=201)


@router.delete("/{token_id}", summary="Revoke an API token", response_model=Success[ApiToken])
async def revoke_token(account_id: str, token_id: str, request: Request, db: Db,
                       token: Token, _: NoBody) -> Envelope:
    _account(token, account_id)
    row = await api_tokens.revoke_visible(db, account_id, token.app_id, token_id)
    request.app.state.grants.forget(row.token_hash)
    return ok(_wire(row))


@user_router.get("/client/v4/user/tokens/verify", summary="Check an API token: what it reaches",
                 response_model=Success[VerifiedToken], responses=errors(401))
async def verify_token(token: Token) -> Envelope:
    return ok({"id": token.token_id, "status": "active", "account_id": token.account_id,
               "app_id": token.app_id})
