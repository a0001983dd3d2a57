"""A1–A2: the apps of an account."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from salon.api import wire
from salon.api.deps import Db, Paged, Token
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import PagedSuccess, Success, errors
from salon.api.schemas.resources import App, CreatedApp
from salon.core.errors import Forbidden, NotFound
from salon.core.schema import NAME_PATTERN, Strict, text
from salon.services import apps

router = APIRouter(tags=["apps"])


class NewApp(Strict):
    #: Stored trimmed: 1 to 255 characters once trimmed (`services.apps`); the pattern
    #: (no blank name) is only for the document, checked there with its own message.
    name: Annotated[text(name=True), Field(json_schema_extra={
        "pattern": rf"(?={NAME_PATTERN})^\s*\S(?:.{{0,253}}\S)?\s*$"})]


@router.get("/apps", summary="List apps", response_model=PagedSuccess[list[App]])
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


@router.post("/apps", summary="Create an app", status_code=201, response_model=Success[CreatedApp],
             responses=errors(403))
async def create_app(account_id: str, body: NewApp, db: Db, token: Token) -> Envelope:
    if token.account_id != account_id:
        raise NotFound(f"Account {account_id} not found.")
    if token.app_id is not None:
        raise Forbidden("This API token is scoped to one app and cannot create apps.")
    app = await apps.create(db, account_id, body.name)
    return ok({"app": wire.app(app)}, status_code=201)
