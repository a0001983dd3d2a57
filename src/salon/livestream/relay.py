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
for the playlist every segment, and each viewer would otherwise cost a query.
"""

import logging
import time

import httpx
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from salon.cluster.proxy import FORWARDED, forwarded_mark, is_forwarded
from salon.core.livestreams import ACTIVE
from salon.store.database import Database
from salon.store.models import LivestreamSession

log = logging.getLogger("salon.livestream")

CLAIM_TTL_SECS = 1.0
#: Headers of the encoder node's answer that are passed on.
PASSED = ("content-type", "cache-control", "access-control-allow-origin")
TIMEOUT_SECS = 5.0


class EncoderRelay:
    """Finds the node that encodes a livestream and fetches its HLS files from there."""

    def __init__(self, database: Database, cluster, secret: str) -> None:
        self.database = database
        self.cluster = cluster
        self.secret = secret
        self._claims: dict[str, tuple[str | None, float]] = {}

    async def fetch(self, request: Request, livestream_id: str) -> Response | None:
        """The encoder node's answer for this request's path, or None when this node is
        the one to answer (it encodes it, nobody does, or the request was passed here)."""
        if is_forwarded(request.scope["headers"], self.secret):
            return None
        node_id = await self._encoder_of(livestream_id)
        if node_id is None or node_id == self.cluster.node_id:
            return None
        try:
            entry = await self.cluster.entry(node_id)
        except Exception as error:  # Redis away: answer here, as one node would
            log.warning("livestream %s: finding node %s failed: %s", livestream_id,
                        node_id, error)
            return None
        if entry is None:
            return None
        url = entry["address"].rstrip("/") + request.url.path
        mark = forwarded_mark(self.secret, self.cluster.node_id)
        try:
            answer = await self.cluster.http.get(
                url, headers={FORWARDED.decode(): mark}, timeout=TIMEOUT_SECS)
        except httpx.HTTPError as error:
            log.warning("livestream %s: node %s did not answer for %s: %s", livestream_id,
                        node_id, request.url.path, error)
            return None
        headers = {name: answer.headers[name] for name in PASSED if name in answer.headers}
        return Response(answer.content, status_code=answer.status_code, headers=headers)

    async def _encoder_of(self, livestream_id: str) -> str | None:
        """The node claiming the livestream's running session, if one runs."""
        now = time.monotonic()
        kept = self._claims.get(livestream_id)
        if kept is not None and kept[1] > now:
            return kept[0]
        async with self.database.session() as db:
            node_id = await db.scalar(
                select(LivestreamSession.claimed_by)
                .where(LivestreamSession.livestream_id == livestream_id,
                       LivestreamSession.status.in_(ACTIVE))
                .order_by(LivestreamSession.invoked_time.desc()).limit(1))
        if len(self._claims) > 1000:
            self._claims.clear()
        self._claims[livestream_id] = (node_id, now + CLAIM_TTL_SECS)
        return node_id
