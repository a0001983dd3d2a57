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



async def test_the_fast_path_answers_what_the_relay_fetched_without_fastapi(
        tmp_path) -> None:
    """A file not on this node's disk is fetched through the relay in the fast path
    itself (the FastAPI route is never reached); what the relay cannot get is a 404 in
    the error envelope, as the route would say."""
    from types import SimpleNamespace

    from starlette.responses import Response

    from salon.livestream.fast_path import HlsFastPath

    livestream_id = "0b6f3c1e-7d1a-4a51-9d7e-2f1f6f0a1b2c"
    asked: list[str] = []

    class Relay:
        async def fetch(self, request, wanted: str):
            asked.append(request.url.path)
            if request.url.path.endswith("seg_00003.ts"):
                return Response(b"segment 3", media_type="video/mp2t")
            return None

    async def fastapi(scope, receive, send) -> None:
        raise AssertionError("the FastAPI route was reached")

    live = SimpleNamespace(hls_root=tmp_path, relay=Relay(),
                           viewers=SimpleNamespace(segment=lambda _: None))
    app = SimpleNamespace(state=SimpleNamespace(livestreams=live))
    fast = HlsFastPath(fastapi)

    async def get(name: str) -> tuple[int, bytes]:
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": f"/live/{livestream_id}/{name}",
                 "headers": [], "query_string": b"", "app": app}
        await fast(scope, None, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    assert await get("seg_00003.ts") == (200, b"segment 3")
    status, body = await get("seg_00004.ts")
    assert status == 404 and b'"success":false' in body and b"seg_00004.ts" in body
    assert asked == [f"/live/{livestream_id}/seg_00003.ts",
                     f"/live/{livestream_id}/seg_00004.ts"]
