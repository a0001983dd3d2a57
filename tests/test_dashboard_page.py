"""The dashboard's files as served: one HTML page and its modules from the package, each
with the page's policy (own files only, talks only to this host, never framed), every
view the router names present, and nothing that would keep a secret in a URL."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import SalonServer
from tests.test_web_security import policy

SOURCE = Path(__file__).resolve().parents[1] / "src" / "salon" / "web" / "dashboard"


@pytest.fixture(scope="module")
def web(sqlite_server: SalonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sqlite_server.url, timeout=10) as client:
        yield client


def test_page_and_modules_carry_the_policy(web: httpx.Client) -> None:
    page = web.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["x-frame-options"] == "DENY"
    csp = policy(page)
    assert csp["default-src"] == csp["script-src"] == csp["connect-src"] == "'self'"
    assert csp["style-src"] == "'self'"  # no inline styles either
    assert csp["frame-ancestors"] == "'none'" and csp["frame-src"] == "'none'"
    assert csp["base-uri"] == "'none'" and csp["form-action"] == "'none'"
    again = web.get("/dashboard/index.html")
    assert again.text == page.text and policy(again) == csp
    for path in ("/dashboard/app.js", "/dashboard/views/live.js", "/dashboard/chart.js"):
        module = web.get(path)
        assert module.status_code == 200, path
        assert "javascript" in module.headers["content-type"], path
        assert policy(module) == csp and module.headers["x-content-type-options"] == "nosniff"
    assert web.get("/dashboard/nothing.js").status_code == 404
    # Out of the mount: httpx would resolve a literal `..` before sending (and ask for
    # /settings.py, which is not the mount at all), so the dots go percent-encoded and
    # the mount itself is asked for files that do exist one and two levels up.
    for raw, beside in (("%2e%2e/%2e%2e/settings.py", "settings.py"),
                        ("%2e%2e/landing/landing.css", "web/landing/landing.css"),
                        ("..%2f..%2fsettings.py", "settings.py"),
                        ("%2e%2e%2f%2e%2e%2fsettings.py", "settings.py")):
        assert (SOURCE.parents[1] / beside).is_file(), beside
        url = web.base_url.join(f"/dashboard/{raw}")
        assert url.raw_path == f"/dashboard/{raw}".encode()  # sent as written
        escaped = web.get(url)
        assert escaped.status_code == 404, (raw, escaped.text[:200])
        assert (SOURCE.parents[1] / beside).read_text()[:80] not in escaped.text


def test_every_routed_view_exists_and_nothing_inline() -> None:
    app = (SOURCE / "app.js").read_text()
    views = set(re.findall(r"\[/\^#.*?, '(\w+)'", app))
    assert len(views) == 11, views
    on_disk = {p.stem for p in (SOURCE / "views").glob("*.js")}
    assert views == on_disk
    html = (SOURCE / "index.html").read_text()
    assert "<script>" not in html and " style=" not in html and "onclick=" not in html
    for source in SOURCE.rglob("*.js"):
        text = source.read_text()
        # The token goes in a header, kept in sessionStorage: never localStorage, never a URL.
        assert "localStorage.setItem(KEY" not in text, source
        assert not re.search(r"[?&]token=", text.replace("/meet#token=", "")), source
        assert "innerHTML" not in text and "https://" not in text, source
