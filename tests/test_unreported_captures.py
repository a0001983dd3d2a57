"""The look for captures nobody reported (salon.transcription.unreported): one capture
that cannot be queued neither holds up the others nor fills the log."""

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from salon.transcription.unreported import Unreported, transcribe_forever


class Captures:
    """Finds the same two captures at every look; its first look fails."""

    after = timedelta(minutes=2)

    def __init__(self) -> None:
        self.looks = 0

    async def find(self, now: object) -> list[Unreported]:
        self.looks += 1
        if self.looks == 1:
            raise ConnectionRefusedError("the database is restarting")
        return [Unreported("app", "meeting", name, Path("/nowhere") / name)
                for name in ("broken", "fine")]


async def test_a_capture_that_cannot_be_queued_holds_up_nothing_and_is_told_once(
        caplog: pytest.LogCaptureFixture) -> None:
    captures, queued = Captures(), []

    async def transcribe(app_id: str, meeting_id: str, session_id: str,
                         directory: Path) -> None:
        if session_id == "broken":
            raise RuntimeError("its meeting's options cannot be read")
        queued.append(session_id)

    with caplog.at_level(logging.WARNING, logger="salon.transcription"):
        loop = asyncio.create_task(transcribe_forever(captures, transcribe, 0.01))
        while captures.looks < 6:
            await asyncio.sleep(0.01)
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert queued.count("fine") >= 4  # asked again at every look, after "broken"
    assert caplog.text.count("looking for unreported captures failed") == 1
    assert caplog.text.count("the unreported capture of session broken") == 1
