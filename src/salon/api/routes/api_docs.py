"""The API reference pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), served offline.

FastAPI's own pages load their scripts from a CDN, with no integrity check, on the
origin of the meeting page: whoever controlled that CDN would run script next to
`/meet`. Here every file comes from salon. Swagger UI's and ReDoc's come from the pinned
`fastapi-offline` package (`fastapi_offline/static`: swagger-ui-dist 5.32.6 and redoc
2.5.3, byte for byte the npm packages' files); the pages and Swagger UI's start-up script
are salon's own (`salon/web/docs`), so no inline script is needed and the pages get a
strict Content-Security-Policy. Files are under `/docs/assets/`.
"""

from fastapi import FastAPI
from fastapi.responses import FileResponse

from salon.api.routes.web import Assets

ASSETS_PATH = "/docs/assets"

PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    # Only salon's files; the spec and "Try it out" fetch from this host. Both viewers
    # set inline styles (ReDoc writes <style> elements); ReDoc searches in a blob: worker.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; worker-src blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def install(app: FastAPI) -> None:
    """Needs `FastAPI(docs_url=None, redoc_url=None)`: these replace FastAPI's pages."""
    assets = Assets([("salon", "web/docs"), ("fastapi_offline", "static")], PAGE_HEADERS)

    def page(name: str) -> FileResponse:
        path, _ = assets.lookup_path(name)
        return FileResponse(path, media_type="text/html", headers=assets.headers)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> FileResponse:
        return page("swagger.html")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> FileResponse:
        return page("redoc.html")

    app.mount(ASSETS_PATH, assets, name="docs-assets")
