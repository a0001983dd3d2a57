"""What a node keeps of the HLS files it passes on from an encoder on another node
(salon.livestream.relay_cache): one fetch per file however many viewers ask, per
livestream session, playlists only for half a segment."""

import asyncio

from salon.livestream.relay_cache import Fetched, RelayCache


class Encoder:
    """The encoder node: counts what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.status = 200
        self.fail = False

    def fetcher(self, path: str):
        async def fetch() -> Fetched | None:
            self.asked.append(path)
            await asyncio.sleep(0.01)
            if self.fail:
                raise OSError("connection reset")
            return Fetched(self.status, f"{path} #{len(self.asked)}".encode(),
                           {"content-type": "video/mp2t"})
        return fetch


async def test_a_segment_is_fetched_once_for_every_viewer_of_its_session() -> None:
    cache, encoder = RelayCache(), Encoder()
    path = "/live/x/seg_00000.ts"
    answers = await asyncio.gather(*(cache.get(("s1", path), encoder.fetcher(path))
                                     for _ in range(50)))
    assert encoder.asked == [path]
    assert {a.content for a, _ in answers} == {b"/live/x/seg_00000.ts #1"}
    assert sum(1 for _, shared in answers if not shared) == 1  # the one that fetched
    again, shared = await cache.get(("s1", path), encoder.fetcher(path))
    assert shared and again is answers[0][0] and encoder.asked == [path]
    assert (cache.hits, cache.fetches) == (50, 1)
    # the livestream started again: seg_00000.ts is another session's file
    fresh, shared = await cache.get(("s2", path), encoder.fetcher(path))
    assert not shared and fresh.content.endswith(b"#2")


async def test_a_playlist_is_kept_for_a_moment_only() -> None:
    cache, encoder = RelayCache(playlist_ttl=0.2), Encoder()
    path = "/live/x/index.m3u8"
    first, _ = await cache.get(("s1", path), encoder.fetcher(path))
    second, shared = await cache.get(("s1", path), encoder.fetcher(path))
    assert shared and second is first
    await asyncio.sleep(0.25)
    third, shared = await cache.get(("s1", path), encoder.fetcher(path))
    assert not shared and third.content.endswith(b"#2")


async def test_failures_and_refusals_are_not_kept() -> None:
    cache, encoder = RelayCache(), Encoder()
    path = "/live/x/seg_00007.ts"
    encoder.status = 404  # not written yet
    missing, _ = await cache.get(("s1", path), encoder.fetcher(path))
    assert missing.status == 404
    encoder.status = 200
    found, shared = await cache.get(("s1", path), encoder.fetcher(path))
    assert found.status == 200 and not shared
    encoder.fail = True
    other = "/live/x/seg_00008.ts"
    waiting = [asyncio.ensure_future(cache.get(("s1", other), encoder.fetcher(other)))
               for _ in range(3)]
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert sum(isinstance(o, OSError) for o in outcomes) == 1  # the one that fetched
    assert [o for o in outcomes if not isinstance(o, OSError)] == [(None, False)] * 2
    assert ("s1", other) not in cache.segments and not cache._fetching


async def test_kept_segments_stay_within_their_memory() -> None:
    cache, encoder = RelayCache(segment_bytes=100), Encoder()
    for index in range(10):
        path = f"/live/x/seg_{index:05d}.ts"
        await cache.get(("s1", path), encoder.fetcher(path))
    assert cache.kept <= 100 and len(cache.segments) < 10
    assert ("s1", "/live/x/seg_00009.ts") in cache.segments
    assert cache.kept == sum(len(a.content) for a in cache.segments.values())

