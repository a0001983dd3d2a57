"""What salon's own bots (the transcriber, a url recorder) ask of a `MediaSession`: to
hear exactly some peers' voices, and the seconds of a voice from before they heard it
(docs/protocol.md "Captions"). A mixin: the session keeps the state."""

import itertools
import time
from collections.abc import Iterable, Mapping
from typing import Any

import av

from salon.client.media import backlog
from salon.client.realtime import RealtimeError

#: `media.subscribe` lists at most this many tracks (docs/protocol.md).
MAX_VOICES = 200
#: `listen_to` asks again no sooner than this after a refusal for rate.
LISTEN_RETRY_SECS = 0.5


def speaking_first(roster: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A roster's peer ids (peer id -> its peer view), those whose audio is on first:
    the voices `listen_to` keeps when there are more than it may list."""
    return sorted(roster, key=lambda peer_id: not roster[peer_id].get("audio"))


class VoiceListening:
    """`listen_to` and `backlog`, on a `MediaSession`'s peer, m-lines and subscribe
    connection."""

    _voices: frozenset[str] | None
    _listen_again_at: float
    mids: dict[str, dict[str, Any] | None]
    sub_pc: Any
    peer: Any

    subscribe: Any  # MediaSession.subscribe

    async def listen_to(self, peer_ids: Iterable[str]) -> None:
        """Receive exactly the audio of `peer_ids`, never video (salon's bots: the
        transcriber, a url recording): `media.subscribe` manual with the first
        `MAX_VOICES` of them in the order given (the request's bound; `speaking_first`
        orders a roster), sent only when that set differs from the last one the server
        took. A refusal for rate (a burst of joins) is not raised: the set is sent again
        by a call at least `LISTEN_RETRY_SECS` later (or the server's `retry_after_ms`).
        Any other refusal is raised."""
        wanted = frozenset(itertools.islice(
            dict.fromkeys(f"{peer_id}:audio" for peer_id in peer_ids), MAX_VOICES))
        if wanted == self._voices or time.monotonic() < self._listen_again_at:
            return
        try:
            await self.subscribe("manual", sorted(wanted))
        except RealtimeError as refused:
            if refused.code != "RATE_LIMITED":
                raise
            wait = max(LISTEN_RETRY_SECS, (refused.retry_after_ms or 0) / 1000)
            self._listen_again_at = time.monotonic() + wait
            return
        self._voices = wanted

    async def backlog(self, track_id: str, before: int, since: float | None = None
                      ) -> list[tuple[float, av.Packet]]:
        """The last seconds of a voice this session receives, before the frame whose
        `pts` is `before` (`media.backlog`; salon's bots only): (the server's arrival
        time in unix seconds, the Opus packet), oldest first, with `pts` numbered as the
        frames this session yields, so they run straight into them; only those the
        server received at or after `since` (unix seconds), if given (backlog.py)."""
        mid = next((mid for mid, info in self.mids.items()
                    if info is not None and info["track_id"] == track_id), None)
        receiver = next((t.receiver for t in (self.sub_pc.getTransceivers()
                                              if self.sub_pc else [])
                         if mid is not None and str(t.mid) == mid), None)
        return await backlog.fetch(self.peer, receiver, track_id, before, since)
