"""A1–A2: the apps of an account."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from salon.api import wire
from salon.api.deps import Db, Paged, Token
from salon.api.envelope import Envelope, ok
from salon.core.errors import Forbidden, NotFound
from salon.core.schema import Strict, text
from salon.services import apps

router = APIRouter(tags=["apps"])


class NewApp(Strict):
    name: text(name=True)


@router.get("/apps", summary="List apps")
async def list_apps(
    account_id: str,
    db: Db,
    token: Token,
    page: Paged,
    search: str | None = None,
    sort_order: Annotated[Literal["ASC", "DESC"], Query()] = "DESC",
) -> Envelope:
    if token.account_id != account_id:
        raise NotFound(f"Account {account_id} not found.")
    rows, total = await apps.list_page(
        db, account_id, page, search=search, sort_order=sort_order, only_app=token.app_id
    )
    return ok([wire.app(row) for row in rows], paging=page.paging(total, len(rows)))


@router.post("/apps", summary="Create an app", status_code=201)
async def create_app(account_id: str, body: NewApp, db: Db, token: Token) -> Envelope:
    if token.account_id != account_id:
        raise NotFound(f"Account {account_id} not found.")
    if token.app_id is not None:
        raise Forbidden("This API token is scoped to one app and cannot create apps.")
    app = await apps.create(db, account_id, body.name)
    return ok({"app": wire.app(app)}, status_code=201)
