"""Request-scoped dependencies: a database session, and the app a request addresses."""

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import Depends, Query, Request
from fastapi.dependencies.utils import field_annotation_is_sequence
from sqlalchemy.ext.asyncio import AsyncSession

from salon.api.body_limit import GRANT_STATE
from salon.api.envelope import describe
from salon.core.errors import InvalidRequest
from salon.core.paging import MAX_PAGE_NO, MAX_PER_PAGE, Page
from salon.services.grants import AppRef, Grant
from salon.services.participant_tokens import TokenSigner


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.database.session() as session:
        yield session


#: Closed as soon as the endpoint returns, before the response is sent: on SQLite the
#: session holds the one pooled connection, which must not wait on a slow client.
Db = Annotated[AsyncSession, Depends(_session, scope="function")]

#: Per route: the query parameters it reads as one value (a list's may repeat).
_SINGLE: dict[int, frozenset[str]] = {}


def _single_values(request: Request) -> None:
    """A query parameter given twice (`?page_no=-8&page_no=1`) would be read as its last
    value, the other silently dropped: refused (400), unless the route takes a list of
    it. Called from the dependencies every API route has (the grant, the app)."""
    query = request.query_params
    if len(query.multi_items()) == len(query):  # no key twice: the usual case
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    single = _SINGLE.get(id(route))
    if single is None:
        names: set[str] = set()
        stack = [dependant]
        while stack:
            node = stack.pop()
            names.update(field.alias for field in node.query_params
                         if not field_annotation_is_sequence(field.field_info.annotation))
            stack.extend(node.dependencies)
        single = _SINGLE[id(route)] = frozenset(names)
    for name in sorted(single):
        if len(query.getlist(name)) > 1:
            raise InvalidRequest(f"query.{name}: Given more than once; send it once.")


async def _grant(request: Request) -> Grant:
    _single_values(request)
    return await request.app.state.grants.grant(request.headers.get("authorization"))


Token = Annotated[Grant, Depends(_grant)]


async def current_app(request: Request) -> AppRef:
    """The app a request's path names, if its token reaches it (401 or 404 if not)."""
    # One dependency for both steps: FastAPI's per-dependency cost shows on hot paths.
    # The ids are read from the path rather than declared as parameters, which FastAPI
    # would validate as strings on every request; `openapi.py` documents them instead.
    _single_values(request)
    grants = request.app.state.grants
    grant = getattr(request.state, GRANT_STATE, None)  # looked up by `BodyLimit`
    if grant is None:
        grant = await grants.grant(request.headers.get("authorization"))
    path = request.path_params
    return await grants.app(grant, path["account_id"], path["app_id"])


CurrentApp = Annotated[AppRef, Depends(current_app)]


async def _signer(request: Request) -> TokenSigner:
    return request.app.state.signer


Signer = Annotated[TokenSigner, Depends(_signer)]


async def _page(
    page_no: Annotated[int | None, Query(ge=0, le=MAX_PAGE_NO,
                                         description="1-based; 0 means 1")] = None,
    per_page: Annotated[int | None, Query(ge=0, le=MAX_PER_PAGE)] = None,
) -> Page:
    return Page.of(page_no, per_page)


Paged = Annotated[Page, Depends(_page)]


async def _no_body(request: Request) -> None:
    """A route that takes no body takes none, `{}` or `null`; a field is refused as on
    every route (api.md: unknown fields are refused), so a misplaced setting is not
    silently ignored."""
    raw = await request.body()
    if not raw.strip():
        return
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("Request body is not valid JSON") from None
    if value is None:
        return
    if not isinstance(value, dict):
        raise InvalidRequest("Request body must be a JSON object")
    if value:  # in the words and at most the count of every other route's refusal
        raise InvalidRequest(describe([{"type": "extra_forbidden", "loc": ("body", name)}
                                       for name in value]))


#: For routes that take no body (P6, S9, AS3, WD2, and every DELETE).
NoBody = Annotated[None, Depends(_no_body)]
