"""A read answered by every node: what lives in each node's memory (the rooms it runs),
gathered for one answer (docs/cluster.md "REST on any node"). The other nodes answer
the same request, marked `x-salon-forwarded-by` so that they answer for themselves."""

import asyncio
import logging
from typing import Any

import httpx
from starlette.requests import Request

from salon.cluster.node import ClusterNode
from salon.cluster.proxy import FORWARDED

log = logging.getLogger(__name__)

_client: httpx.AsyncClient | None = None


async def from_other_nodes(cluster: ClusterNode, request: Request) -> list[dict[str, Any]]:
    """The `data` of the same GET on every other live node; [] when the request is itself
    one of these (it is answered for this node alone). A node that does not answer in
    time is left out (its rooms are missing from the answer), not an error."""
    global _client
    if request.headers.get(FORWARDED.decode()) is not None:
        return []
    if _client is None:
        _client = httpx.AsyncClient(timeout=5.0)
    headers = {"authorization": request.headers.get("authorization", ""),
               FORWARDED.decode(): cluster.node_id}
    others = (await cluster.addresses())[1:]
    answers = await asyncio.gather(*(
        _client.get(address.rstrip("/") + request.url.path, params=request.query_params,
                    headers=headers) for address in others), return_exceptions=True)
    gathered = []
    for address, answer in zip(others, answers, strict=True):
        if isinstance(answer, BaseException) or answer.status_code != 200:
            log.warning("cluster: node %s did not answer %s: %s", address, request.url.path,
                        answer if isinstance(answer, BaseException) else answer.status_code)
            continue
        gathered.append(answer.json()["data"])
    return gathered
