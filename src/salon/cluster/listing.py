"""`salon nodes`: the cluster's live nodes and their load, from Redis."""

import asyncio
import time
from dataclasses import asdict

from redis.asyncio import Redis

from salon.cluster.registry import NodeInfo, live_nodes
from salon.settings import Settings


def nodes(settings: Settings) -> list[NodeInfo]:
    async def read() -> list[NodeInfo]:
        redis = Redis.from_url(settings.redis_url.get_secret_value())
        try:
            return await live_nodes(redis, settings.cluster_name)
        finally:
            await redis.aclose()
    return asyncio.run(read())


def as_records(found: list[NodeInfo]) -> list[dict]:
    return [asdict(node) for node in found]


def as_table(found: list[NodeInfo]) -> str:
    if not found:
        return "no live nodes"
    now = time.time()
    rows = [("NODE", "ADDRESS", "ROOMS", "PEERS", "CPU %", "UP", "SEEN")]
    rows += [(n.id, n.address, str(n.rooms), str(n.peers), f"{n.cpu_pct:.1f}",
              _age(now - n.started_at), f"{now - n.seen_at:.1f} s ago") for n in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in rows)


def _age(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
