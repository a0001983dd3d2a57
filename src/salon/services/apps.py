"""Accounts and apps. A new app is seeded with the default presets."""

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.default_presets import default_presets
from salon.core.errors import InvalidRequest, NotFound
from salon.core.ids import new_hex_id, new_uuid
from salon.core.names import MAX_TOKEN_NAME_CHARS
from salon.core.paging import Page
from salon.core.schema import CONTROL_CHARACTERS
from salon.services import api_tokens
from salon.store.models import Account, App, Preset


@dataclass(frozen=True)
class Credentials:
    """What an operator needs to call the API: printed once, never stored in clear."""

    account_id: str
    app_id: str
    api_token: str


def _valid_name(name: str) -> str:
    """The REST body's rule, for `salon apps create` too: trimmed, 1-255 characters, no
    control character."""
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidRequest("App name must be 1 to 255 characters.")
    if CONTROL_CHARACTERS.search(name):
        raise InvalidRequest("App name must not contain control characters "
                             "(NUL, tab, newline, …).")
    return name


async def create_account(db: AsyncSession) -> Account:
    account = Account(id=new_hex_id(), created_at=utcnow())
    db.add(account)
    await db.flush()
    return account


async def sole_account(db: AsyncSession) -> Account | None:
    """The account when there is exactly one (the usual self-hosted case), else None."""
    accounts = list(await db.scalars(select(Account).limit(2)))
    return accounts[0] if len(accounts) == 1 else None


async def create(db: AsyncSession, account_id: str, name: str) -> App:
    app = App(id=new_hex_id(), account_id=account_id, name=_valid_name(name), created_at=utcnow())
    db.add(app)
    now = utcnow()
    for body in default_presets():
        db.add(Preset(id=new_uuid(), app_id=app.id, name=body.name, created_at=now,
                      updated_at=now, **body.tree()))
    await db.commit()
    return app


async def bootstrap(db: AsyncSession) -> Credentials | None:
    """On an empty database: an account, a default app and an API token. Else nothing."""
    if await db.scalar(select(func.count()).select_from(Account)):
        return None
    account = await create_account(db)
    app = await create(db, account.id, "default")
    token = await api_tokens.create(db, account.id, name="bootstrap")
    return Credentials(account.id, app.id, token.secret)


async def create_with_token(db: AsyncSession, name: str, account_id: str | None) -> Credentials:
    """For `salon apps create`: the app plus an account-level token that reaches it."""
    if account_id is None:
        account = await sole_account(db)
        if account is None:
            if await db.scalar(select(func.count()).select_from(Account)):
                raise InvalidRequest("Several accounts exist: say which one with --account.")
            account = await create_account(db)
        account_id = account.id
    elif await db.get(Account, account_id) is None:
        raise NotFound(f"Account {account_id} does not exist.")
    app = await create(db, account_id, name)
    token = await api_tokens.create(db, account_id, name=f"app {app.name}"[:MAX_TOKEN_NAME_CHARS])
    return Credentials(account_id, app.id, token.secret)


async def list_page(
    db: AsyncSession,
    account_id: str,
    page: Page,
    *,
    search: str | None = None,
    sort_order: Literal["ASC", "DESC"] = "DESC",
    only_app: str | None = None,
) -> tuple[list[App], int]:
    query = select(App).where(App.account_id == account_id)
    if only_app is not None:
        query = query.where(App.id == only_app)
    if search:
        query = query.where(func.lower(App.name).contains(search.lower(), autoescape=True))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = App.created_at.asc() if sort_order == "ASC" else App.created_at.desc()
    rows = await db.scalars(query.order_by(order, App.id).offset(page.offset).limit(page.per_page))
    return list(rows), total


async def list_all(db: AsyncSession) -> list[App]:
    return list(await db.scalars(select(App).order_by(App.created_at)))
