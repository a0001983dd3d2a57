"""Recording and livestream requests (docs/protocol.md "Recordings" and "Livestreams").

They need the preset's `can_record` / `can_livestream` (FORBIDDEN otherwise); each
status change reaches every joined peer as `recording.updated` / `livestream.updated`.
"""

from typing import Any

from salon.client.requester import Requester


class RecordingActions(Requester):
    # recordings (docs/recording.md)
    async def start_recording(self, allow_multiple: bool = False) -> dict[str, Any]:
        """Start recording the meeting; returns the RecordingView (INVOKED). CONFLICT
        while one is active, unless `allow_multiple`."""
        reply = await self.request("recording.start", allow_multiple_recordings=allow_multiple)
        return reply["recording"]

    async def stop_recording(self, recording_id: str | None = None) -> list[dict[str, Any]]:
        """Stop one recording, or (None) every active one; returns the RecordingViews."""
        return await self._steer_recording("stop", recording_id)

    async def pause_recording(self, recording_id: str | None = None) -> list[dict[str, Any]]:
        """Pause one recording, or (None) every RECORDING one."""
        return await self._steer_recording("pause", recording_id)

    async def resume_recording(self, recording_id: str | None = None) -> list[dict[str, Any]]:
        """Resume one recording, or (None) every PAUSED one."""
        return await self._steer_recording("resume", recording_id)

    async def _steer_recording(self, action: str,
                               recording_id: str | None) -> list[dict[str, Any]]:
        if recording_id is None:
            reply = await self.request(f"recording.{action}")
        else:
            reply = await self.request(f"recording.{action}", recording_id=recording_id)
        return reply["recordings"]

    # the livestream (docs/livestreaming.md)
    async def start_livestream(self, name: str | None = None,
                               video_config: dict[str, int] | None = None) -> dict[str, Any]:
        """Start livestreaming the meeting; returns the LivestreamView (INVOKED).
        `video_config`: `{width, height}` (even); CONFLICT while one runs."""
        data: dict[str, Any] = {}
        if name is not None:
            data["name"] = name
        if video_config is not None:
            data["video_config"] = video_config
        return (await self.request("livestream.start", **data))["livestream"]

    async def stop_livestream(self) -> dict[str, Any]:
        """Stop the meeting's livestream; returns its LivestreamView as it was when asked
        to stop. NOT_FOUND when none runs."""
        return (await self.request("livestream.stop"))["livestream"]
