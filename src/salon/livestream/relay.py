"""HLS from any node of a cluster: a playlist or segment that is not on this node's disk
is fetched from the node whose encoder writes it, and passed on as it came
(docs/cluster.md "Livestreams").

A livestream's encoder runs on whichever node claimed its session (a meeting's: any
node with a free encoder; an RTMP ingest's: the node whose ingest the encoder reached),
and its playlist and segments are files there. Without this, a `playback_url` only
worked at that node, and died with it. Now every node answers it, so the URL can name
the cluster's load balancer (`SALON_LIVESTREAM_PLAYBACK_URL`) and outlive any one node:
when an encoder is taken over elsewhere, the same URL serves the new node's playlist,
whose numbers go on from the old one's (`core.livestreams.first_segment_after`).

The fetch carries the cluster's signed `x-salon-forwarded-by` mark, and a marked request
is answered from the disk or not at all, so nothing loops. Which node encodes is read
from the database (the session's claim) and kept for `CLAIM_TTL_SECS`: a player asks
for the playlist every segment, and each viewer would otherwise cost a query. What is
fetched is kept (`relay_cache.RelayCache`: segments, and playlists for half a segment),
so a node's viewers cost the encoder's node one request per file; a segment served
from what was kept is counted in the viewer seconds here (a fetched one is counted
by the node that served it).
"""

import logging
import time
from collections.abc import Callable

import httpx
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from salon.cluster.proxy import FORWARDED, forwarded_mark, is_forwarded
from salon.core.livestreams import ACTIVE
from salon.livestream.relay_cache import Fetched, RelayCache
from salon.store.database import Database
from salon.store.models import LivestreamSession

log = logging.getLogger("salon.livestream")

CLAIM_TTL_SECS = 1.0
#: Headers of the encoder node's answer that are passed on.
PASSED = ("content-type", "cache-control", "access-control-allow-origin")
TIMEOUT_SECS = 5.0


class EncoderRelay:
    """Finds the node that encodes a livestream and fetches its HLS files from there."""

    def __init__(self, database: Database, cluster, secret: str,
                 on_segment: Callable[[str], None] = lambda livestream_id: None) -> None:
        self.database = database
        self.cluster = cluster
        self.secret = secret
        #: Told of each segment served from what was kept (viewer seconds).
        self.on_segment = on_segment
        self.cache = RelayCache()
        self._claims: dict[str, tuple[tuple[str, str] | None, float]] = {}

    async def fetch(self, request: Request, livestream_id: str) -> Response | None:
        """The encoder node's answer for this request's path, or None when this node is
        the one to answer (it encodes it, nobody does, or the request was passed here)."""
        if is_forwarded(request.scope["headers"], self.secret):
            return None
        claim = await self._encoder_of(livestream_id)
        if claim is None or claim[1] == self.cluster.node_id:
            return None
        session_id, node_id = claim
        path = request.url.path
        answer, shared = await self.cache.get(
            (session_id, path), lambda: self._fetch(livestream_id, node_id, path))
        if answer is None:
            return None
        if shared and answer.status == 200 and path.endswith(".ts"):
            self.on_segment(livestream_id)
        return Response(answer.content, status_code=answer.status, headers=answer.headers)

    async def _fetch(self, livestream_id: str, node_id: str, path: str) -> Fetched | None:
        try:
            entry = await self.cluster.entry(node_id)
        except Exception as error:  # Redis away: answer here, as one node would
            log.warning("livestream %s: finding node %s failed: %s", livestream_id,
                        node_id, error)
            return None
        if entry is None:
            return None
        url = entry["address"].rstrip("/") + path
        mark = forwarded_mark(self.secret, self.cluster.node_id)
        try:
            answer = await self.cluster.http.get(
                url, headers={FORWARDED.decode(): mark}, timeout=TIMEOUT_SECS)
        except httpx.HTTPError as error:
            log.warning("livestream %s: node %s did not answer for %s: %s", livestream_id,
                        node_id, path, error)
            return None
        headers = {name: answer.headers[name] for name in PASSED if name in answer.headers}
        return Fetched(answer.status_code, answer.content, headers)

    async def _encoder_of(self, livestream_id: str) -> tuple[str, str] | None:
        """(the livestream's running session, the node claiming it), if one runs."""
        now = time.monotonic()
        kept = self._claims.get(livestream_id)
        if kept is not None and kept[1] > now:
            return kept[0]
        async with self.database.session() as db:
            row = (await db.execute(
                select(LivestreamSession.id, LivestreamSession.claimed_by)
                .where(LivestreamSession.livestream_id == livestream_id,
                       LivestreamSession.status.in_(ACTIVE))
                .order_by(LivestreamSession.invoked_time.desc()).limit(1))).first()
        claim = (row[0], row[1]) if row is not None and row[1] is not None else None
        if len(self._claims) > 1000:
            self._claims.clear()
        self._claims[livestream_id] = (claim, now + CLAIM_TTL_SECS)
        return claim
