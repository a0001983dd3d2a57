"""The operator dashboard at `/dashboard`: static files from the package
(`salon/web/dashboard`), no build step, like the meeting page.

The page holds no secret of its own: the operator types an API token at sign-in, the page
keeps it in `sessionStorage` and calls the REST API with it (`docs/dashboard.md`). The
Content-Security-Policy lets it load only its own scripts and styles and talk only to
this host; no frames at all (it embeds nothing), and no page may frame it (clickjacking
of its revoke and kick buttons).
"""

from fastapi import FastAPI
from fastapi.responses import FileResponse

from salon.api.routes.web import Assets

DASHBOARD_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self'; frame-src 'none'; frame-ancestors 'none'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def install(app: FastAPI) -> None:
    files = Assets([("salon", "web/dashboard")], DASHBOARD_HEADERS)

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard_page() -> FileResponse:
        path, _ = files.lookup_path("index.html")
        return FileResponse(path, media_type="text/html", headers=DASHBOARD_HEADERS)

    app.mount("/dashboard", files, name="dashboard")
