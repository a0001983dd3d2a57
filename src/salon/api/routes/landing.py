"""`/`: the landing page, what someone who just started salon (or was given its address)
sees first: what salon is, how to start a meeting, and links to the reference this
server serves itself (`/docs`, `/openapi.json`, the AsyncAPI document). Those work
offline, unlike documentation on GitHub, so the page links only to them.

The page is a static file (`salon/web/landing`) with two blanks filled once at start-up:
the server's public base URL in the curl example and salon's version. It runs no script,
so its Content-Security-Policy allows none, and loads nothing from another host.
"""

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

import salon
from salon.api.routes.web import Assets

PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    # Its own stylesheet and nothing else: no script at all, no frames, no forms.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
}

#: The example base URL in the page's file, replaced with the server's public base.
EXAMPLE_BASE = "<span data-base>http://127.0.0.1:8787</span>"
VERSION_BLANK = "<span data-version></span>"


def render(public_base: str) -> str:
    """The page with this server's address and version filled in."""
    assets = Assets([("salon", "web/landing")])
    path, _ = assets.lookup_path("index.html")
    with open(path, encoding="utf-8") as page:
        text = page.read()
    return (text.replace(EXAMPLE_BASE, f"<span data-base>{html.escape(public_base)}</span>")
            .replace(VERSION_BLANK, f"<span data-version>{html.escape(salon.__version__)}</span>"))


def install(app: FastAPI, public_base: str) -> None:
    page = render(public_base)

    # HEAD too: uptime checks and link checkers ask it of a site's front page.
    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def landing() -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_HEADERS)

    app.mount("/landing", Assets([("salon", "web/landing")], PAGE_HEADERS), name="landing")
