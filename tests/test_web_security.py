"""Browser-facing hardening: headers on every response, the meeting page's CSP, and the
API reference pages (`/docs`, `/redoc`) served from salon itself."""

from collections.abc import Iterator

import httpx
import pytest

from tests.servers import SalonServer


@pytest.fixture(scope="module")
def web(sqlite_server: SalonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sqlite_server.url, timeout=10) as client:
        yield client


def test_every_response_says_nosniff(web: httpx.Client, sqlite_server: SalonServer) -> None:
    app = sqlite_server.app_url.removeprefix(sqlite_server.url)
    for path, status in [("/meet", 200), ("/meet/app.js", 200), ("/sdk/v1/salon.js", 200),
                         ("/healthz", 200), ("/openapi.json", 200), ("/nowhere", 404),
                         ("/meet/ui", 401), (f"{app}/meetings", 401),
                         ("/chat-exports/x.csv?expires=1&signature=x", 403)]:
        response = web.get(path)
        assert response.status_code == status, (path, response.text)
        assert response.headers["x-content-type-options"] == "nosniff", path
    listed = web.get(f"{app}/meetings", headers=sqlite_server.headers)
    assert listed.status_code == 200
    assert listed.headers.get_list("x-content-type-options") == ["nosniff"]
