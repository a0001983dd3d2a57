"""What a node passes on of other nodes' HLS files, kept so that its viewers cost the
encoder's node one request per file, not one per viewer (`relay.EncoderRelay`).

A segment never changes once listed: kept until memory runs short (the most recently
served, up to `SEGMENT_BYTES_KEPT`). A playlist changes every segment: kept for
`PLAYLIST_TTL_SECS`, half a segment, so what a player reloads is at most that much
older than the encoder's. Entries are per livestream session: a livestream started
again numbers its segments from 0 again, and a cached segment of the earlier session
must not stand for the new one's. Viewers asking for the same file at once share one
fetch.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

SEGMENT_BYTES_KEPT = 32 * 1024 * 1024
PLAYLIST_TTL_SECS = 0.5


@dataclass(frozen=True)
class Fetched:
    """An encoder node's answer, as passed on."""

    status: int
    content: bytes
    headers: dict[str, str]


Key = tuple[str, str]  # (livestream session id, path)


class RelayCache:
    def __init__(self, segment_bytes: int = SEGMENT_BYTES_KEPT,
                 playlist_ttl: float = PLAYLIST_TTL_SECS) -> None:
        self.segment_bytes = segment_bytes
        self.playlist_ttl = playlist_ttl
        self.segments: OrderedDict[Key, Fetched] = OrderedDict()
        self.playlists: dict[Key, tuple[Fetched, float]] = {}
        self.kept = 0  # bytes in `segments`
        self._fetching: dict[Key, asyncio.Future[Fetched | None]] = {}
        #: Answers given from what was kept or shared, and fetches made.
        self.hits = self.fetches = 0

    async def get(self, key: Key, fetch: Callable[[], Awaitable[Fetched | None]]
                  ) -> tuple[Fetched | None, bool]:
        """(the answer, whether it came from what was kept or from another viewer's
        fetch); `fetch()` runs only when neither has it, and None (no answer) is kept
        by nobody."""
        kept = self._kept(key)
        if kept is not None:
            self.hits += 1
            return kept, True
        pending = self._fetching.get(key)
        if pending is not None:
            answer = await asyncio.shield(pending)
            if answer is not None:
                self.hits += 1
            return answer, answer is not None
        pending = self._fetching[key] = asyncio.get_running_loop().create_future()
        try:
            self.fetches += 1
            answer = await fetch()
            if answer is not None and answer.status == 200:
                self._keep(key, answer)
            pending.set_result(answer)
        except BaseException:
            if not pending.done():  # the others get no answer rather than this error
                pending.set_result(None)
            raise
        finally:
            del self._fetching[key]
        return answer, False

    def _kept(self, key: Key) -> Fetched | None:
        if key[1].endswith(".m3u8"):
            entry = self.playlists.get(key)
            if entry is None or entry[1] <= time.monotonic():
                return None
            return entry[0]
        answer = self.segments.get(key)
        if answer is not None:
            self.segments.move_to_end(key)
        return answer

    def _keep(self, key: Key, answer: Fetched) -> None:
        if key[1].endswith(".m3u8"):
            now = time.monotonic()
            if len(self.playlists) > 1000:  # viewers of many streams: drop the expired
                self.playlists = {k: v for k, v in self.playlists.items() if v[1] > now}
            self.playlists[key] = (answer, now + self.playlist_ttl)
            return
        self.segments[key] = answer
        self.kept += len(answer.content)
        while self.kept > self.segment_bytes and len(self.segments) > 1:
            _, dropped = self.segments.popitem(last=False)
            self.kept -= len(dropped.content)
