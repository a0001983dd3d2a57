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

#: Per route: the query parameters it declares, and those of them that take one value.
_DECLARED: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _declared(route: object) -> tuple[frozenset[str], frozenset[str]] | None:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    known = _DECLARED.get(id(route))
    if known is None:
        every: set[str] = set()
        single: set[str] = set()
        stack = [dependant]
        while stack:
            node = stack.pop()
            for field in node.query_params:
                every.add(field.alias)
                if not field_annotation_is_sequence(field.field_info.annotation):
                    single.add(field.alias)
            stack.extend(node.dependencies)
        known = _DECLARED[id(route)] = (frozenset(every), frozenset(single))
    return known


def _check_query(request: Request) -> None:
    """Query parameters the route does not take are refused (400), as unknown body
    fields are: a misspelt filter would otherwise be dropped and the list answered
    unfiltered. One given twice (`?page_no=-8&page_no=1`) would be read as its last
    value, the other silently dropped: refused too, unless the route takes a list of
    it. Called from the dependencies every API route has (the grant, the app), after
    the token and the app are checked: a request that fails those is a 401 or 404
    whatever its query."""
    query = request.query_params
    if not query:
        return
    known = _declared(request.scope.get("route"))
    if known is None:
        return
    every, single = known
    for name in sorted(set(query) - every):
        raise InvalidRequest(f"query.{name}: is not a known parameter of this route.")
    if len(query.multi_items()) == len(query):  # no key twice: the usual case
        return
    for name in sorted(single):
        if len(query.getlist(name)) > 1:
            raise InvalidRequest(f"query.{name}: Given more than once; send it once.")


async def _grant(request: Request) -> Grant:
    grant = await request.app.state.grants.grant(request.headers.get("authorization"))
    _check_query(request)
    return grant


Token = Annotated[Grant, Depends(_grant)]


async def current_app(request: Request) -> AppRef:
    """The app a request's path names, if its token reaches it (401 or 404 if not)."""
    # One dependency for both steps: FastAPI's per-dependency cost shows on hot paths.
    # The ids are read from the path rather than declared as parameters, which FastAPI
    # would validate as strings on every request; `openapi.py` documents them instead.
    grants = request.app.state.grants
    grant = getattr(request.state, GRANT_STATE, None)  # looked up by `BodyLimit`
    if grant is None:
        grant = await grants.grant(request.headers.get("authorization"))
    path = request.path_params
    app = await grants.app(grant, path["account_id"], path["app_id"])
    _check_query(request)
    return app


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
