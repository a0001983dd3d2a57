"""The browser SDK and the meeting page, served from the package (`salon/web`).

- `/sdk/v1/*.js`: the SDK as plain ES modules (`salon.js`, `media.js`, `ui/*.js`), with
  `ETag` and `Last-Modified` from Starlette's `StaticFiles` and `Cache-Control: no-cache`
  (kept, revalidated); no build step.
- `/meet`: the meeting page. The participant token goes in the URL fragment
  (`/meet#token=…`), which browsers never send to the server.
- `GET /meet/ui` (`Authorization: Bearer <participant token>`): what the page needs
  before it joins: the meeting's title and status (`ACTIVE` / `INACTIVE`), the preset's
  name, view type, how many videos a page of the stage shows (`max_video_streams`:
  `desktop` and `mobile`), whether the display name may be edited, what it may produce,
  and the preset's `ui.design_tokens`.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import Success, errors
from salon.api.schemas.live import MeetingPage
from salon.core.errors import Unauthorized
from salon.core.presets import PresetUI
from salon.services import participants

PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    # The page loads only its own scripts and styles; fetches and its WebSocket go to this
    # host alone ('self' covers ws: and wss: to the same host and port), so an injected
    # script could send nothing elsewhere. No <base> may move its relative URLs, no form
    # may post anywhere (the page's forms are handled in script), no plugin objects.
    # Frames are plugins: pages at the URLs of the app's registry, which its operator keeps.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
        "frame-src 'self' http: https:; frame-ancestors 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


def page_headers(app: FastAPI) -> dict[str, str]:
    """PAGE_HEADERS, with the cluster's nodes (docs/cluster.md) added to `connect-src`:
    the page's WebSocket follows its meeting to the node that runs it."""
    cluster = getattr(app.state, "cluster", None)
    origins = cluster.origins() if cluster is not None else []
    if not origins:
        return PAGE_HEADERS
    policy = PAGE_HEADERS["Content-Security-Policy"].replace(
        "connect-src 'self';", f"connect-src 'self' {' '.join(origins)};")
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


async def _admitted(request: Request) -> participants.Admitted:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the participant token: 'Authorization: Bearer <token>'.")
    state = request.app.state
    async with state.database.session() as db:
        return await participants.admit(db, state.signer, token.strip())


class Assets(StaticFiles):
    """Static files that browsers keep but revalidate (`no-cache`: a 304 when unchanged),
    so an upgraded server never runs with a stale SDK; with the headers of the page they
    belong to, so a page's HTML file has its policy under any URL (`/meet/index.html`)."""

    def __init__(self, packages: list[str | tuple[str, str]],
                 headers: dict[str, str] | Callable[[], dict[str, str]] | None = None) -> None:
        super().__init__(packages=packages)
        #: The page's headers (Cache-Control included), or how to make them (the
        #: meeting page's policy names the cluster's nodes as they are).
        self.headers: dict[str, str] | Callable[[], dict[str, str]] = (
            headers if callable(headers) else {"Cache-Control": "no-cache", **(headers or {})})

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        headers = self.headers() if callable(self.headers) else self.headers
        response.headers.update({"Cache-Control": "no-cache", **headers})
        if str(args[0]).endswith(".d.ts"):
            # TypeScript declarations (protocol.d.ts): the system's types say Qt or MPEG-TS.
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
        return response


def install(app: FastAPI) -> None:
    meet_files = Assets([("salon", "web/meet")], lambda: page_headers(app))

    @app.get("/meet", include_in_schema=False)
    async def meeting_page() -> FileResponse:
        cluster = getattr(app.state, "cluster", None)
        if cluster is not None:  # the policy names the nodes as they are now
            await cluster.addresses()
        path, _ = meet_files.lookup_path("index.html")
        return FileResponse(path, media_type="text/html", headers=page_headers(app))

    @app.get("/meet/ui", tags=["web"], summary="What the meeting page needs before joining "
                                              "(participant token)",
             response_model=Success[MeetingPage], responses=errors(401))
    async def meeting_ui(request: Request) -> Envelope:
        admitted = await _admitted(request)
        preset = admitted.preset
        permissions = admitted.permissions
        ui = PresetUI.model_validate(preset.ui or {}).wire()
        data: dict[str, Any] = {
            "meeting": {"id": admitted.meeting.id, "title": admitted.meeting.title,
                        "status": admitted.meeting.status},
            "participant": {"name": admitted.participant.name
                            or admitted.participant.custom_participant_id},
            "preset": {
                "name": preset.name,
                "view_type": admitted.config.view_type,
                "max_video_streams": admitted.config.max_video_streams.model_dump(),
                "can_edit_display_name": permissions.can_edit_display_name,
                "stage_enabled": permissions.stage_enabled,
                "can_produce": {kind: getattr(permissions.media, kind).can_produce
                                for kind in ("audio", "video", "screenshare")},
                "design_tokens": ui["design_tokens"],
            },
        }
        return ok(data)

    app.mount("/sdk/v1", Assets([("salon", "web/sdk")]), name="sdk")
    app.mount("/meet", meet_files, name="meet")
