"""The meeting phases of bench/cluster.py (docs/cluster.md).

`fanout_phase`: one meeting of `peers` peers, each connecting to one of the entry
addresses it is given in turn (the nodes of a cluster, or one node), sent on by the
cluster's REDIRECT to the node running the meeting; then a fixed broadcast rate from a
few senders, as bench/realtime.py's fixed phase. It prints the join figures (with how
many joins were redirected) and the fan-out latency percentiles.

`failover_phase`: a meeting of `peers` Python clients (`auto_resume`) on a cluster, chat
sent and acknowledged; the node running it is killed (SIGKILL); the time until every
peer is back in the room as itself, and how many acknowledged messages the meeting's
chat history lacks afterwards (`chat_lost`).
"""

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.realtime import (
    FIXED_DRAIN_CAP_S,
    JOIN_CONCURRENCY,
    JOIN_TIMEOUT_S,
    Load,
    LoadPeer,
    ServerRun,
    Tally,
    fanout,
    keepalive,
    percentile_ms,
    settle,
)
from salon.client import RealtimeClient

_REDIRECT_PORT = re.compile(rb'"url":"wss?://[^:/"]+:(\d+)/')


@dataclass
class FanoutResult:
    label: str
    joined: int = 0
    redirected: int = 0
    failed: int = 0
    join_s: float = 0.0
    join_latencies: list[float] = field(default_factory=list)
    tally: Tally | None = None

    def figures(self) -> dict[str, Any]:
        tally = self.tally
        return {
            "peers": self.joined, "redirected": self.redirected, "failed": self.failed,
            "join_all_s": round(self.join_s, 2),
            "join_p99_ms": percentile_ms(self.join_latencies, 99),
            "fanout_p50_ms": percentile_ms(tally.latencies, 50) if tally else None,
            "fanout_p99_ms": percentile_ms(tally.latencies, 99) if tally else None,
            "delivered": tally.delivered if tally else 0,
            "lost": tally.lost if tally else None,
        }


async def _join(load: Load, port: int, token: str, result: FanoutResult) -> LoadPeer:
    """Connect at `port` and join, following REDIRECTs (at most 3)."""
    loop = asyncio.get_running_loop()
    join = json.dumps({"id": 1, "type": "join",
                       "data": {"token": token, "protocol": 1}}).encode()
    for _ in range(4):
        _, peer = await loop.create_connection(
            lambda p=port: LoadPeer(load, p, "/realtime/v1", False), "127.0.0.1", port)
        try:
            await peer.join(join)
            return peer
        except ConnectionError as error:
            found = _REDIRECT_PORT.search(str(error).encode().replace(b"\\", b""))
            peer.close()
            if found is None:
                raise
            port = int(found.group(1))
            result.redirected += 1
    raise ConnectionError("more than 3 redirects")


async def fanout_phase(label: str, ports: list[int], tokens: list[str],
                       owner_pid: Callable[[], int], rate: float, seconds: float,
                       senders: int = 5) -> FanoutResult:
    result = FanoutResult(label)
    load = Load(ServerRun(label))
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)

    async def one(index: int, token: str) -> None:
        async with gate:
            began = time.perf_counter()
            try:
                async with asyncio.timeout(JOIN_TIMEOUT_S):
                    peer = await _join(load, ports[index % len(ports)], token, result)
            except (OSError, TimeoutError):
                result.failed += 1
                return
            result.join_latencies.append(time.perf_counter() - began)
            load.peers.append(peer)

    pinger = asyncio.create_task(keepalive(load))
    began = time.perf_counter()
    try:
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
        result.join_s = time.perf_counter() - began
        result.joined = len(load.peers)
        await settle(load)
        if len(load.peers) > senders:
            result.tally = await fanout(load, 1, "fixed", load.peers[:senders], rate, seconds,
                                        FIXED_DRAIN_CAP_S, owner_pid())
    finally:
        load.closing = True
        pinger.cancel()
        for peer in load.peers:
            peer.close()
        await asyncio.sleep(0.3)
    return result


@dataclass
class FailoverResult:
    peers: int
    back_s: list[float] = field(default_factory=list)
    same_peer: int = 0
    same_session: int = 0
    acknowledged: int = 0
    chat_lost: int | None = None

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.back_s)

        def pick(q: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

        return {"failover_peers": self.peers, "failover_back": len(self.back_s),
                "failover_p50_s": pick(0.5), "failover_p99_s": pick(0.99),
                "same_peer": self.same_peer, "same_session": self.same_session,
                "chat_acknowledged": self.acknowledged, "chat_lost": self.chat_lost}


async def failover_phase(entry_url: str, tokens: list[str], kill_owner: Callable[[], None],
                         messages: int = 60, cap_s: float = 40.0) -> FailoverResult:
    """Peers join at `entry_url` (the cluster's shared address), chat, the owner dies."""
    result = FailoverResult(len(tokens))
    peers = [await RealtimeClient.join(entry_url, token, auto_resume=True)
             for token in tokens]
    try:
        before = [(p.peer_id, p.joined["room"]["session_id"], p.resumes) for p in peers]
        sent: list[str] = []
        for n in range(messages):
            reply = await peers[n % len(peers)].send_text(f"before the failover {n}")
            sent.append(reply["id"])  # acknowledged: the server stored it
        result.acknowledged = len(sent)
        killed = time.perf_counter()
        kill_owner()

        async def back(index: int) -> None:
            peer = peers[index]
            while peer.resumes == before[index][2]:
                await asyncio.sleep(0.02)
            result.back_s.append(time.perf_counter() - killed)
            result.same_peer += peer.peer_id == before[index][0]
            result.same_session += peer.joined["room"]["session_id"] == before[index][1]

        await asyncio.wait([asyncio.ensure_future(back(i)) for i in range(len(peers))],
                           timeout=cap_s)
        if result.back_s:
            alive = next(p for p in peers if p.resumes)
            history: list[dict[str, Any]] = []
            before_id = None
            while True:
                page = await alive.chat_history(limit=100, before=before_id)
                history += page["messages"]
                if not page["has_more"] or not page["messages"]:
                    break
                before_id = page["messages"][0]["created_at"]
            kept = {m["id"] for m in history}
            result.chat_lost = sum(1 for message_id in sent if message_id not in kept)
    finally:
        for peer in peers:
            await peer.close()
    return result
