"""A recording's watermark image (`video_config.watermark.url`), fetched once before the
recorder starts so that the engine only ever reads a local file.

The URL comes from the operator (an API token holder), so fetching it is theirs to ask;
it is still bounded: http(s) only, `MAX_BYTES`, `TIMEOUT_SECS`, and the bytes must be an
image Pillow opens. A watermark that cannot be had does not cost the recording: the
recorder runs without it and the reason is logged.
"""

import asyncio
import logging
from pathlib import Path

import httpx

log = logging.getLogger("salon.recording")

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_SECS = 10.0


async def fetch_watermark(url: str, directory: Path) -> Path | None:
    """The image at `url` saved as `directory/watermark` (None, logged, if it cannot be
    had)."""
    try:
        data = await _download(url)
        await asyncio.to_thread(_check_image, data)
    except (httpx.HTTPError, ValueError, OSError) as problem:
        log.warning("recording without its watermark %s: %s", url, problem)
        return None
    path = directory / "watermark"
    await asyncio.to_thread(path.write_bytes, data)
    return path


async def _download(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=TIMEOUT_SECS, follow_redirects=True) as client:
        async with client.stream("GET", url) as response:
            response.raise_for_status()
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise ValueError(f"the image is larger than {MAX_BYTES} bytes")
    return bytes(data)


def _check_image(data: bytes) -> None:
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, SyntaxError) as problem:
        raise ValueError(f"not an image Pillow can read: {problem}") from None
