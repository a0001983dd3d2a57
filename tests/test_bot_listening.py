"""What salon's bots (the transcriber, a url recorder) do when the server refuses or is
slow: `VoiceListening.listen_to` waits out a refusal for rate and keeps to the request's
bound; a transcriber that fails still closes its capture; a backlog that times out is
only a missing backlog (pure: fakes for the server)."""

import json
from types import SimpleNamespace

import pytest

from salon.client import RealtimeError
from salon.client.media import voices
from salon.client.media.voices import MAX_VOICES, VoiceListening, speaking_first
from salon.transcription.listener import Transcriber
from salon.transcription.spec import TranscriberSpec


class Bot(VoiceListening):
    """The mixin on a fake session: `media.subscribe` answers from `refusals` first."""

    def __init__(self, *refusals: RealtimeError) -> None:
        self._voices = None
        self._listen_again_at = float("-inf")
        self.refusals = list(refusals)
        self.asked: list[list[str]] = []

    async def subscribe(self, mode: str = "auto", track_ids: list[str] | None = None,
                        device: str | None = None) -> dict:
        assert mode == "manual"
        self.asked.append(list(track_ids or []))
        if self.refusals:
            raise self.refusals.pop(0)
        return {"mode": mode, "track_ids": track_ids}


async def test_a_refusal_for_rate_is_waited_out_and_the_set_sent_again(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(voices.time, "monotonic", lambda: now[0])
    bot = Bot(RealtimeError("RATE_LIMITED", "slow down", retry_after_ms=200))
    await bot.listen_to(["b", "a"])  # refused: not raised
    assert bot.asked == [["a:audio", "b:audio"]]
    now[0] += 0.3
    await bot.listen_to(["b", "a"])  # too soon to ask again
    assert len(bot.asked) == 1
    now[0] += 0.3
    await bot.listen_to(["b", "a"])  # half a second on: sent again, taken
    assert bot.asked[-1] == ["a:audio", "b:audio"] and len(bot.asked) == 2
    await bot.listen_to(["a", "b"])  # the same set: nothing to send
    assert len(bot.asked) == 2
    await bot.listen_to(["a"])
    assert bot.asked[-1] == ["a:audio"]


async def test_any_other_refusal_is_raised_and_the_set_asked_again_later() -> None:
    bot = Bot(RealtimeError("INVALID", "track_ids: too many"))
    with pytest.raises(RealtimeError):
        await bot.listen_to(["a"])
    await bot.listen_to(["a"])  # the server never took it: asked again
    assert bot.asked == [["a:audio"], ["a:audio"]]


async def test_at_most_the_requests_bound_with_the_voices_that_are_on_first() -> None:
    roster = {f"p{n:03}": {"audio": n % 2 == 1} for n in range(MAX_VOICES + 50)}
    ordered = speaking_first(roster)
    assert all(roster[p]["audio"] for p in ordered[:(MAX_VOICES + 50) // 2])
    bot = Bot()
    await bot.listen_to(ordered + ordered[:3])  # repeats count once
    (asked,) = bot.asked
    assert len(asked) == MAX_VOICES
    speaking = {f"{p}:audio" for p, view in roster.items() if view["audio"]}
    assert speaking <= set(asked)


def _transcriber(tmp_path) -> Transcriber:
    spec = TranscriberSpec(recording_id="t", session_id="s", gateway_url="ws://unused",
                           token="unused", capture_dir=tmp_path)
    return Transcriber(spec, SimpleNamespace())


async def test_a_transcriber_refused_by_the_server_still_closes_its_capture(tmp_path) -> None:
    transcriber = _transcriber(tmp_path)

    async def refused() -> None:
        raise RealtimeError("FORBIDDEN", "not a bot")

    transcriber._join = refused  # type: ignore[method-assign]
    outcome = await transcriber.run()
    assert outcome.error == "RealtimeError: FORBIDDEN: not a bot"
    complete = json.loads((tmp_path / "complete.json").read_text())
    assert complete["session_id"] == "s" and complete["error"] == outcome.error


async def test_a_backlog_that_times_out_is_only_a_missing_backlog(tmp_path) -> None:
    transcriber = _transcriber(tmp_path)

    async def slow(*args, **kwargs):
        raise TimeoutError("no reply to media.backlog in 10 s")

    transcriber.media = SimpleNamespace(backlog=slow)
    voice = SimpleNamespace(track_id="p:audio")
    assert await transcriber._backlog(voice, 960) == []


async def test_a_session_that_moved_or_was_taken_over_sends_its_voices_again() -> None:
    """The new room (or node) has none of the old subscription: `listen_to` must not
    take the set for sent."""
    from salon.client.media import MediaSession

    peer = SimpleNamespace(joined={"media": {"enabled": True}}, listen=lambda handlers: None,
                           watchers={}, listeners={})
    media = MediaSession(peer)  # type: ignore[arg-type]
    try:
        for follow in (media._moved, media._taken_over):
            media._voices = frozenset({"a:audio"})
            follow({"media": {"enabled": False}})
            assert media._voices is None
    finally:
        await media.close()
