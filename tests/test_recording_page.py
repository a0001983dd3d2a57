"""A url recording's page capture without a browser: the token in the URL, finding
Chromium (and the message when it is missing, which ends the recording before it joins),
and a screencast JPEG becoming the output frame. The page recorded by real Chromium is
tests/media/test_recording_url.py."""

import asyncio
import io
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image

from salon.recording.engine import Recorder
from salon.recording.page import (
    CHROMIUM_ENV,
    PageError,
    PagePicture,
    chromium_path,
    with_token,
)
from salon.recording.spec import RecordingSpec, StopReason, VideoSpec


def test_the_token_is_appended_as_auth_token() -> None:
    url = with_token("https://app.example/rec?room=a&authToken=theirs#top", "tok.en-1_")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == \
        ("https", "app.example", "/rec", "top")
    assert parse_qs(parts.query) == {"room": ["a"], "authToken": ["tok.en-1_"]}
    assert with_token("http://127.0.0.1:9/", "t") == "http://127.0.0.1:9/?authToken=t"


def test_chromium_is_found_or_the_message_says_how_to_get_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(PageError, match=f"url recordings need Chromium: {CHROMIUM_ENV}"):
        chromium_path()
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(CHROMIUM_ENV, str(fake))
    assert chromium_path() == str(fake)
    monkeypatch.delenv(CHROMIUM_ENV)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PageError, match="apt-get install chromium"):
        chromium_path()


def jpeg(rgb: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_screencast_jpeg_becomes_the_output_frame() -> None:
    picture = PagePicture(320, 180)
    assert picture.frame() == (None, False)
    picture.put(jpeg((200, 30, 30), (320, 180)))
    picture.put(jpeg((30, 30, 200), (160, 90)))  # only the newest is decoded, scaled up
    frame, new = picture.frame()
    assert new and frame is not None and (frame.width, frame.height) == (320, 180)
    assert frame.format.name == "yuv420p"
    mean = frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    assert np.abs(mean - (30, 30, 200)).max() < 12, mean
    assert (picture.received, picture.decoded) == (2, 1)
    again, new = picture.frame()
    assert again is frame and not new
    picture.put(b"not a jpeg")
    assert picture.frame() == (frame, False)  # the last good one stays


class _Control:
    def paused(self) -> bool:
        return False

    def stop_requested(self) -> StopReason | None:
        return None

    def started(self) -> None:
        raise AssertionError("nothing was recorded")


async def test_without_chromium_the_recording_ends_with_what_to_do(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The recorder says so before it joins (the gateway here does not exist)."""
    monkeypatch.setenv(CHROMIUM_ENV, os.devnull)
    spec = RecordingSpec("r", "composite", "ws://127.0.0.1:9/realtime/v1", "t", tmp_path,
                         "page", video=VideoSpec(width=320, height=180),
                         url="https://app.example/")
    outcome = await Recorder(spec, _Control()).run()
    assert outcome.stop_reason == "INTERNAL_ERROR" and outcome.files == ()
    assert outcome.error is not None and outcome.error.startswith("url recordings need Chromium")
    assert "Traceback" not in outcome.error


async def test_a_recorder_cancelled_while_recording_closes_the_browser(tmp_path: Path) -> None:
    """A recorder cancelled mid-recording (its process shutting down) still closes the
    browser it opened, rather than leave it to the driver's death."""
    spec = RecordingSpec("r", "composite", "ws://127.0.0.1:9/realtime/v1", "t", tmp_path,
                         "page", video=VideoSpec(width=320, height=180),
                         url="https://app.example/")
    recorder = Recorder(spec, _Control())
    closed: list[bool] = []

    class Page:
        async def close(self) -> None:
            closed.append(True)

    async def joined_then_cancelled() -> None:
        recorder.page = Page()  # type: ignore[assignment]
        raise asyncio.CancelledError

    recorder._join = joined_then_cancelled  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await recorder.run()
    assert closed == [True]
