"""A recording's watermark URL, fetched before the recorder starts: an image is saved for
the engine; anything else (not an image, too large, unreachable) records without it."""

from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from salon.recording import watermark
from salon.recording.watermark import fetch_watermark
from tests.servers import free_port


def png(size: tuple[int, int] = (40, 20)) -> bytes:
    out = BytesIO()
    Image.new("RGBA", size, (255, 0, 0, 128)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def images() -> AsyncIterator[str]:
    bodies = {"logo.png": (png(), "image/png"), "page.html": (b"<html>no</html>", "text/html"),
              "huge.png": (b"\x89PNG" + b"0" * (watermark.MAX_BYTES + 10), "image/png")}

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in bodies:
            raise web.HTTPNotFound()
        body, kind = bodies[name]
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_an_image_is_saved_for_the_engine(images: str, tmp_path: Path) -> None:
    path = await fetch_watermark(f"{images}/logo.png", tmp_path)
    assert path == tmp_path / "watermark"
    with Image.open(path) as image:
        assert image.size == (40, 20)


@pytest.mark.parametrize("name", ["page.html", "huge.png", "missing.png"])
async def test_anything_else_records_without_it(images: str, tmp_path: Path, name: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    assert await fetch_watermark(f"{images}/{name}", tmp_path) is None
    assert not (tmp_path / "watermark").exists()
    assert "without its watermark" in caplog.text


async def test_an_unreachable_host_records_without_it(tmp_path: Path) -> None:
    assert await fetch_watermark(f"http://127.0.0.1:{free_port()}/logo.png", tmp_path) is None
