"""Browser-facing hardening: headers on every response, the meeting page's CSP, and the
API reference pages (`/docs`, `/redoc`) served from salon itself."""

import re
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


def policy(response: httpx.Response) -> dict[str, str]:
    """The Content-Security-Policy as `{directive: sources}`."""
    parts = (part.strip().split(" ", 1) for part in
             response.headers["content-security-policy"].split(";"))
    return {name: (rest[0] if rest else "") for name, *rest in parts}


def test_meeting_page_talks_only_to_its_own_host(web: httpx.Client) -> None:
    csp = policy(web.get("/meet"))
    assert csp["connect-src"] == "'self'"  # no ws:/wss: to any host
    assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
    assert csp["base-uri"] == "'none'" and csp["form-action"] == "'none'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'self'"
    assert csp["frame-src"] == "'self' http: https:"  # plugins live on other origins


def test_meeting_page_file_has_its_policy_under_any_url(web: httpx.Client) -> None:
    page = web.get("/meet")
    again = web.get("/meet/index.html")
    assert again.status_code == 200 and again.text == page.text
    assert policy(again) == policy(page)


def test_api_reference_pages_load_nothing_from_elsewhere(web: httpx.Client) -> None:
    for path, needs in [("/docs", ["swagger-ui-bundle.js", "swagger-init.js",
                                   "swagger-ui.css"]),
                        ("/redoc", ["redoc.standalone.js"])]:
        page = web.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert not re.search(r"https?:|//", page.text), page.text  # no other host named
        for name in needs:
            assert f'"/docs/assets/{name}"' in page.text
            asset = web.get(f"/docs/assets/{name}")
            assert asset.status_code == 200 and len(asset.content) > 100, name
            assert asset.headers["x-content-type-options"] == "nosniff"
        csp = policy(page)
        assert csp["default-src"] == "'none'" and csp["script-src"] == "'self'"
        assert csp["connect-src"] == "'self'" and csp["base-uri"] == "'none'"
        assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'none'"
    init = web.get("/docs/assets/swagger-init.js").text
    assert '"/openapi.json"' in init and "validatorUrl: null" in init
    assert web.get("/docs/oauth2-redirect").status_code == 404  # FastAPI's inline-script page
    assert web.get("/docs/assets/nothing.js").status_code == 404


def test_the_landing_page_runs_no_script(web: httpx.Client) -> None:
    """`/` is the landing page (no longer a JSON 404): HTML that loads only its own
    stylesheet and runs no script."""
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "salon" in page.text and "/docs" in page.text
    rules = policy(page)
    assert rules["default-src"] == "'none'" and "script-src" not in rules
