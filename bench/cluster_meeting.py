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

import redis

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
from salon.client import AdminClient, RealtimeClient

_REDIRECT_PORT = re.compile(rb'"url":"wss?://[^:/"]+:(\d+)/')


def _ms(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


@dataclass
class FanoutResult:
    label: str
    joined: int = 0
    redirected: int = 0
    failed: int = 0
    join_s: float = 0.0
    join_latencies: list[float] = field(default_factory=list)
    tally: Tally | None = None
    errors: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        tally = self.tally
        return {
            "peers": self.joined, "redirected": self.redirected, "failed": self.failed,
            "join_all_s": round(self.join_s, 2),
            "join_p99_ms": _ms(percentile_ms(self.join_latencies, 0.99)),
            "fanout_p50_ms": _ms(percentile_ms(tally.latencies, 0.5)) if tally else None,
            "fanout_p99_ms": _ms(percentile_ms(tally.latencies, 0.99)) if tally else None,
            "delivered": tally.delivered if tally else 0,
            "lost": tally.lost if tally else None,
            # the meeting node's CPU, and everything else the machine ran (noise), in %
            "server_cpu_pct": round(tally.cpu_pct(tally.server_cpu), 1) if tally else None,
            "other_cpu_pct": round(tally.cpu_pct(tally.other_cpu), 1) if tally else None,
            **({"errors": self.errors} if self.errors else {}),
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
            except (OSError, TimeoutError) as error:
                result.failed += 1
                if len(result.errors) < 3:
                    result.errors.append(repr(error)[:300])
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


# --- the phases, with their clusters ----------------------------------------------------------


async def make_meeting(url: str, account_id: str, app_id: str, api_token: str, peers: int,
                       preset: str = "group_call_participant") -> tuple[str, list[str]]:
    """One meeting and `peers` participants over REST (setup, not measured)."""
    async with AdminClient(url, account_id, app_id, api_token, timeout=30) as admin:
        meeting = await admin.create_meeting(title="cluster bench")
        gate = asyncio.Semaphore(16)

        async def add(i: int) -> str:
            async with gate:
                person = await admin.add_participant(meeting["id"], f"bench-{i}", preset,
                                                     name=f"Peer {i}")
                return person["token"]

        return meeting["id"], list(await asyncio.gather(*(add(i) for i in range(peers))))


def owner_pid(redis_url: str, cluster: str, meeting_id: str) -> int:
    """The pid of the node running the meeting, from its lease and its registry entry."""
    client = redis.Redis.from_url(redis_url)
    try:
        node_id = client.get(f"{cluster}:room:{meeting_id}")
        entry = client.get(f"{cluster}:node:{node_id.decode()}") if node_id else None
    finally:
        client.close()
    if entry is None:
        raise RuntimeError(f"no node runs meeting {meeting_id}")
    return int(json.loads(entry)["pid"])


async def spread_meeting(workers_of: Callable[[int], Any], redis_url: str, peers: int,
                         rate: float, seconds: float) -> dict[str, Any]:
    """The same meeting of `peers` peers on one node, then spread over three
    (`salon serve --workers 3`: the kernel spreads the connections over the workers, the
    cluster redirects each peer to the meeting's node)."""
    figures: dict[str, Any] = {}
    for nodes in (1, 3):
        with workers_of(nodes) as cluster:
            meeting_id, tokens = await make_meeting(cluster.url, cluster.account_id,
                                                    cluster.app_id, cluster.token, peers)
            result = await fanout_phase(
                f"{nodes} node(s)", [cluster.port], tokens,
                lambda c=cluster, m=meeting_id: owner_pid(redis_url, c.cluster, m),
                rate, seconds)
        shown = result.figures()
        print(f"  meeting on {nodes} node(s): {shown}", flush=True)
        figures[f"meeting_{nodes}_node"] = shown
    return {
        "single_node_fanout_p99_ms": figures["meeting_1_node"]["fanout_p99_ms"],
        "cross_node_fanout_p99_ms": figures["meeting_3_node"]["fanout_p99_ms"],
        "cross_node_redirected": figures["meeting_3_node"]["redirected"],
        "single_node_join_p99_ms": figures["meeting_1_node"]["join_p99_ms"],
        "cross_node_join_p99_ms": figures["meeting_3_node"]["join_p99_ms"],
        "meeting_details": figures,
    }


async def failover(peers: int, messages: int) -> dict[str, Any]:
    """Three nodes on their own loopback addresses (tests.cluster); the meeting's node is
    killed with SIGKILL; its peers resume on the others."""
    from tests.cluster import cluster_of

    with cluster_of(3) as cluster:
        entry = cluster.nodes[0]
        meeting_id, tokens = await make_meeting(entry.url, cluster.account_id,
                                                cluster.app_id, cluster.api_token, peers)

        def kill_owner() -> None:
            cluster.node(cluster.owner(meeting_id)).kill()

        result = await failover_phase(entry.ws, tokens, kill_owner, messages)
    shown = result.figures()
    print(f"  failover: {shown}", flush=True)
    return shown
