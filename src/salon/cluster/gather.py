"""A read answered by every node: what lives in each node's memory (the rooms it runs),
gathered for one answer (docs/cluster.md "REST on any node"). The other nodes answer
the same request, marked `x-salon-forwarded-by` so that they answer for themselves."""

import asyncio
import logging
from typing import Any

from starlette.requests import Request

from salon.cluster.node import ClusterNode
from salon.cluster.proxy import FORWARDED, forwarded_mark, is_forwarded

log = logging.getLogger(__name__)


async def from_other_nodes(cluster: ClusterNode, request: Request) -> list[dict[str, Any]]:
    """The `data` of the same GET on every other live node; [] when the request is itself
    one of these (it is answered for this node alone). A node that does not answer in
    time is left out (its rooms are missing from the answer), not an error."""
    secret = request.app.state.signer.secret
    if is_forwarded(request.scope["headers"], secret):
        return []
    headers = {"authorization": request.headers.get("authorization", ""),
               FORWARDED.decode(): forwarded_mark(secret, cluster.node_id)}
    others = (await cluster.addresses())[1:]
    answers = await asyncio.gather(*(
        cluster.http.get(address.rstrip("/") + request.url.path,
                         params=request.query_params, headers=headers, timeout=5.0)
        for address in others), return_exceptions=True)
    gathered = []
    for address, answer in zip(others, answers, strict=True):
        if isinstance(answer, BaseException) or answer.status_code != 200:
            log.warning("cluster: node %s did not answer %s: %s", address, request.url.path,
                        answer if isinstance(answer, BaseException) else answer.status_code)
            continue
        gathered.append(answer.json()["data"])
    return gathered
