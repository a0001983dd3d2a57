"""The webinar mode of bench/realtime.py (`--webinar`): one large room.

5 presenters (`webinar_presenter`) step on the stage, then N audience peers (a
`webinar_viewer` that may page the participant list, the costlier case) join, 50 in
flight, with the lean load client of bench/realtime.py. Then, for `--seconds`: the stage
broadcasts 5 messages/s in total, the audience chats at 20 messages/s (custom chat
messages, timestamped like broadcasts), and 5 polls are voted in by every audience peer.
Then, with everyone still in: every audience peer upvotes a question, 300 ask for the
stage, N/3 (at most 1,000) more wait in the waiting room and are admitted all at once,
and the host ends the session for all; the session record is read back over REST
(bench/webinar_scale.py). Printed: join time for all N and its p50/p99, the largest
message a joiner received (its join reply: `joiner_state_bytes`), fan-out p50/p99 of
stage broadcasts and of chat, whether every poll's tally, the upvote count, the stage
request list, the admissions, the kick-all and the session record are exact, and the
server's RSS (now and peak).

The last line is one JSON object: `webinar_peers`, `webinar_join_all_s`,
`webinar_join_p99_ms`, `webinar_fanout_p99_ms` (stage broadcasts and chat together),
`joiner_state_bytes`, `webinar_rss_mb`, and more. Targets on 2 cores, N = 3,000: all
joined in < 15 s, join p99 < 1 s, fan-out p99 < 250 ms, joiner_state_bytes < 64 KiB
whatever N is, RSS < 1 GiB. Run from the repo root:

    .venv/bin/python bench/realtime.py --webinar [--peers 3000] [--seconds 10]
        [--profile {join,fixed} [--native]]

`--profile join` samples the server with py-spy while the audience joins, `--profile
fixed` while the stage broadcasts and the audience chats.
"""

import argparse
import asyncio
import contextlib
import json
import time
from typing import Any

from tests.servers import SalonServer, cleanup, start

from bench import webinar_scale as scale
from bench.api import own_cpu, process_cpu
from bench.realtime import (
    NOISY_OTHER_PCT,
    SALON_SEND,
    SETUP_CONCURRENCY,
    Load,
    LoadPeer,
    Profiler,
    ServerRun,
    Tally,
    join_all,
    keepalive,
    machine_cpu,
    percentile_ms,
    raise_fd_limit,
    rnd,
    run_load,
    send_paced,
    settle,
)
from salon.client import RealtimeClient, ws_url
from salon.client.admin import AdminClient

PRESENTERS = 5
STAGE_RATE = 5.0  # broadcasts/s from the stage, in total
CHAT_RATE = 20.0  # chat messages/s from the audience, in total
CHAT_SENDERS = 100  # audience peers taking turns to chat (each well inside its budget)
POLLS = 5
POLL_OPTIONS = ["one", "two", "three", "four"]
DRAIN_CAP_S = 20.0
MAX_WEBINAR_PEERS = 5000
MAX_WAITING = 1000  # people who wait to be admitted all at once (a third of N at most)
TARGET_JOIN_ALL_S = 15.0
TARGET_JOIN_P99_MS = 1000.0
TARGET_FANOUT_P99_MS = 250.0
TARGET_STATE_BYTES = 64 * 1024
TARGET_RSS_MB = 1024.0
CHAT_SEND = ('{"type":"chat.send","data":{"type":"custom","payload":'
             '{"bench_p":%d,"bench_t":%r}}}')
VOTE = '{"type":"poll.vote","data":{"poll_id":"%s","index":%d}}'
AUDIENCE_PRESET = "bench_audience"


class WebinarPeer(LoadPeer):
    """The load client, noting the size of its join reply."""

    largest_reply = 0

    def _message(self, data: bytes, now: float) -> None:
        if self.reply is not None and not self.reply.done():
            WebinarPeer.largest_reply = max(WebinarPeer.largest_reply, len(data))
        super()._message(data, now)


def rss_mb(pid: int) -> tuple[float, float]:
    """The process's resident set now and at its peak, in MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


async def setup(server: SalonServer, peers: int,
                waiting: int) -> tuple[str, list[str], list[str], list[str]]:
    """The meeting, the presenters', the audience's and the waiting room's tokens (REST,
    not measured)."""
    async with AdminClient(server.url, server.account_id, server.app_id, server.api_token,
                           timeout=60) as admin:
        await admin.create_preset(AUDIENCE_PRESET, config={"view_type": "WEBINAR"},
                                  permissions={"stage_enabled": True,
                                               "stage_access": "CAN_REQUEST",
                                               "show_participant_list": True})
        await scale.add_waiting_preset(admin)
        meeting = await admin.create_meeting(title="webinar bench")
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def add(i: int, preset: str) -> str:
            async with gate:
                participant = await admin.add_participant(
                    meeting["id"], f"bench-{preset}-{i}", preset, name=f"{preset} {i}")
                return participant["token"]

        presenters = await asyncio.gather(*(add(i, "webinar_presenter")
                                            for i in range(PRESENTERS)))
        audience = await asyncio.gather(*(add(i, AUDIENCE_PRESET) for i in range(peers)))
        later = await asyncio.gather(*(add(i, scale.WAITING_PRESET) for i in range(waiting)))
        return meeting["id"], list(presenters), list(audience), list(later)


async def stage_and_chat(load: Load, stage: list[LoadPeer], chatters: list[LoadPeer],
                         seconds: float, server_pid: int) -> tuple[Tally, Tally, dict]:
    """The stage broadcasts and the audience chats at once, for `seconds`."""
    fan = len(load.open_peers())  # the audience: the stage's load peers are not counted
    stage_tally, chat_tally = Tally("stage", fan=fan), Tally("chat", fan=fan)  # the sender hears its own message too
    load.phases[1], load.phases[2] = stage_tally, chat_tally
    cpu = (process_cpu(server_pid), own_cpu(), machine_cpu())
    began = time.perf_counter()

    count = lambda rate: max(1, round(rate * seconds))  # noqa: E731
    await asyncio.gather(send_paced(stage_tally, stage, STAGE_RATE, count(STAGE_RATE), SALON_SEND, 1, began),
                         send_paced(chat_tally, chatters, CHAT_RATE, count(CHAT_RATE), CHAT_SEND, 2, began))
    end = began + seconds
    while time.perf_counter() < end + DRAIN_CAP_S:
        if all(t.delivered >= t.expected for t in (stage_tally, chat_tally)):
            break
        await asyncio.sleep(0.05)
    measured = time.perf_counter() - began
    server, client, machine = (process_cpu(server_pid) - cpu[0], own_cpu() - cpu[1],
                               machine_cpu() - cpu[2])
    usage = {"server_cpu_pct": 100 * server / measured,
             "client_cpu_pct": 100 * client / measured,
             "other_cpu_pct": 100 * (machine - server - client) / measured}
    return stage_tally, chat_tally, usage


async def polls(host: RealtimeClient, audience: list[LoadPeer]) -> dict[str, Any]:
    """5 polls; every audience peer votes in each (option i mod 4); then the tallies."""
    made = [(await host.create_poll(f"Question {n}?", POLL_OPTIONS))["poll"]["id"]
            for n in range(POLLS)]
    expected = [0] * len(POLL_OPTIONS)
    began = time.perf_counter()
    voters = 0
    for i, peer in enumerate(audience):
        if peer.closed:
            continue
        voters += 1
        expected[i % len(POLL_OPTIONS)] += 1
        for poll_id in made:
            peer.send_text((VOTE % (poll_id, i % len(POLL_OPTIONS))).encode())
        if i % 100 == 99:
            await asyncio.sleep(0)  # let replies flow
    exact = False
    tallies: list[Any] = []
    while time.perf_counter() - began < 60:
        tallies = [(p["voters"], [o["count"] for o in p["options"]])
                   for p in await host.polls() if p["id"] in made]
        if all(v >= voters for v, _ in tallies):
            break
        await asyncio.sleep(0.5)
    exact = all(v == voters and counts == expected for v, counts in tallies)
    return {"voters": voters, "expected": expected, "tallies": tallies, "exact": exact,
            "vote_s": time.perf_counter() - began}


async def run_webinar(server: SalonServer, args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    waiting = min(MAX_WAITING, args.peers // 3)
    meeting_id, presenter_tokens, audience_tokens, waiting_tokens = await setup(
        server, args.peers, waiting)
    print(f"  setup: {PRESENTERS} presenters, {len(audience_tokens)} audience and {waiting}"
          f" to wait added over REST in {time.perf_counter() - began:.1f} s")
    pid = server.process.pid
    url = ws_url(server.url)
    # The first presenter is a full client (polls, tallies); all five step on the stage.
    host = await RealtimeClient.join(url, presenter_tokens[0])
    await host.stage("join")
    run = ServerRun("salon")
    load = Load(run)
    stage_load = Load(ServerRun("stage"))
    pinger = asyncio.create_task(keepalive(load))
    try:
        await join_all(stage_load, server.port, "/realtime/v1", presenter_tokens[1:], False,
                       pid, WebinarPeer)
        for peer in stage_load.peers:
            peer.send_text(b'{"type":"stage.join","data":{}}')
        await asyncio.sleep(0.5)
        WebinarPeer.largest_reply = 0
        join_profiler = Profiler(pid, args.native) if args.profile == "join" else None
        await join_all(load, server.port, "/realtime/v1", audience_tokens, False, pid,
                       WebinarPeer)
        if join_profiler is not None:
            join_profiler.stop()
            from bench.profile_api import hottest
            print("\npy-spy on the server while the audience joins:")
            hottest(join_profiler.out, 30)
        joined = run.join
        print(f"  join: {len(joined.latencies)} joined, {joined.failed} failed in"
              f" {joined.all_s:.2f} s (settled {joined.settle_s:.2f} s)")
        counts = (await host.state())["room"]["counts"]
        stage_peers = stage_load.peers
        chatters = load.peers[:CHAT_SENDERS]
        profiler = Profiler(pid, args.native) if args.profile == "fixed" else None
        # The stage's tally counts deliveries to the audience only; so does chat's.
        stage_tally, chat_tally, usage = await stage_and_chat(
            load, stage_peers, chatters, args.seconds, pid)
        if profiler is not None:
            profiler.stop()
            from bench.profile_api import hottest
            print("\npy-spy on the server while the stage broadcasts and the audience chats:")
            hottest(profiler.out, 30)
        await settle(load)
        poll = await polls(host, load.peers)
        rss, peak = rss_mb(pid)
        checks = await at_scale(server, host, load, stage_load, waiting_tokens, meeting_id,
                                args.peers)
    finally:
        load.closing = stage_load.closing = True
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
        for peer in load.peers + stage_load.peers:
            peer.close()
        await host.close()
        await asyncio.sleep(0.2)
    return {"run": run, "stage": stage_tally, "chat": chat_tally, "usage": usage,
            "polls": poll, "rss": rss, "peak": peak, "counts": counts,
            "meeting_id": meeting_id, "scale": checks}


async def at_scale(server: SalonServer, host: RealtimeClient, load: Load, stage_load: Load,
                   waiting_tokens: list[str], meeting_id: str, peers: int) -> dict[str, Any]:
    """bench/webinar_scale.py's phases, in order; each prints as it ends."""
    results: dict[str, Any] = {}
    results["qna"] = await scale.questions(host, load.peers)
    print(f"  Q&A: {results['qna']}")
    results["stage_requests"] = await scale.stage_requests(host, load.peers)
    print(f"  stage requests: {results['stage_requests']}")
    waiting = Load(ServerRun("waiting"))
    results["waiting_room"] = await scale.waiting_room(
        host, waiting, server.port, waiting_tokens, join_all, server.process.pid)
    print(f"  waiting room: {results['waiting_room']}")
    results["kick_all"] = await scale.kick_all(host, [load, stage_load, waiting])
    print(f"  kick-all: {results['kick_all']}")
    for peer in waiting.peers:
        peer.close()
    joined = len(load.peers) + len(stage_load.peers) + 1 + results["waiting_room"]["admitted"]
    results["session_record"] = await scale.session_record(server, meeting_id, joined)
    print(f"  session record: {results['session_record']}")
    return results


def report(args: argparse.Namespace, result: dict[str, Any]) -> dict[str, Any]:
    join = result["run"].join
    stage, chat, usage, poll = (result["stage"], result["chat"], result["usage"],
                                result["polls"])
    join_pct = [100 * cpu / join.all_s if join.all_s else 0.0
                for cpu in (join.server_cpu, join.client_cpu, join.other_cpu)]
    print(f"\nwebinar: {PRESENTERS} on stage, {args.peers} in the audience"
          f" (room counts {result['counts']})")
    print(f"  join: all {join.all_s:.2f} s, p50 {percentile_ms(join.latencies, .5):.1f} ms,"
          f" p99 {percentile_ms(join.latencies, .99):.1f} ms, failed {join.failed};"
          f" cpu server {join_pct[0]:.0f}% client {join_pct[1]:.0f}%"
          f" other {join_pct[2]:.0f}%")
    print(f"  largest join reply of an audience peer: {WebinarPeer.largest_reply} bytes")
    both = list(stage.latencies) + list(chat.latencies)
    for t in (stage, chat):
        print(f"  fan-out {t.name:<5}: sent {t.sent}, expected {t.expected},"
              f" delivered {t.delivered}, p50 {percentile_ms(t.latencies, .5) or 0:.1f} ms,"
              f" p99 {percentile_ms(t.latencies, .99) or 0:.1f} ms")
    print(f"  cpu while broadcasting and chatting: server {usage['server_cpu_pct']:.0f}%,"
          f" client {usage['client_cpu_pct']:.0f}%, other {usage['other_cpu_pct']:.0f}%")
    print(f"  polls: {POLLS} x {poll['voters']} voters in {poll['vote_s']:.1f} s; tallies"
          f" {'exact' if poll['exact'] else 'NOT exact'} ({poll['tallies'][:1]} expected"
          f" {poll['expected']})")
    print(f"  server RSS {result['rss']:.0f} MiB (peak {result['peak']:.0f} MiB)")
    noisy = join_pct[2] > NOISY_OTHER_PCT or usage["other_cpu_pct"] > NOISY_OTHER_PCT
    if noisy:
        print(f"  NOTE: other processes used > {NOISY_OTHER_PCT:g}% of a core: noisy figures")
    for sample in result["run"].error_samples:
        print(f"  error: {sample}")
    out = {
        "webinar_peers": args.peers,
        "webinar_join_all_s": round(join.all_s, 2),
        "webinar_join_p50_ms": rnd(percentile_ms(join.latencies, .5)),
        "webinar_join_p99_ms": rnd(percentile_ms(join.latencies, .99)),
        "webinar_join_failed": join.failed,
        "webinar_fanout_p99_ms": rnd(percentile_ms(both, .99)),
        "webinar_stage_p99_ms": rnd(percentile_ms(stage.latencies, .99)),
        "webinar_chat_p99_ms": rnd(percentile_ms(chat.latencies, .99)),
        "webinar_lost": stage.lost + chat.lost,
        "joiner_state_bytes": WebinarPeer.largest_reply,
        "webinar_polls_exact": poll["exact"],
        "webinar_rss_mb": round(result["peak"], 1),
        "webinar_dropped": result["run"].dropped,
        "webinar_other_cpu_pct": round(max(join_pct[2], usage["other_cpu_pct"]), 1),
        "webinar_upvotes_exact": result["scale"]["qna"]["exact"],
        "webinar_stage_requests_exact": result["scale"]["stage_requests"]["exact"],
        "webinar_waiting": result["scale"]["waiting_room"]["waiting"],
        "webinar_admit_all_s": rnd(result["scale"]["waiting_room"]["admit_all_s"], 2),
        "webinar_kick_all_s": round(result["scale"]["kick_all"]["s"], 2),
        "webinar_session_record_exact": result["scale"]["session_record"]["exact"],
        "webinar_scale_ok": all(phase["exact"] for phase in result["scale"].values()),
        "noisy": noisy,
    }
    checks = [
        ("all joined < 15 s", out["webinar_join_all_s"] < TARGET_JOIN_ALL_S
         and not join.failed),
        ("join p99 < 1 s", (out["webinar_join_p99_ms"] or 1e9) < TARGET_JOIN_P99_MS),
        ("fan-out p99 < 250 ms", (out["webinar_fanout_p99_ms"] or 1e9) < TARGET_FANOUT_P99_MS),
        ("joiner state < 64 KiB", out["joiner_state_bytes"] < TARGET_STATE_BYTES),
        ("RSS < 1 GiB", out["webinar_rss_mb"] < TARGET_RSS_MB),
        ("polls exact", poll["exact"]),
        ("upvotes, stage requests, admit-all, kick-all and session record exact",
         out["webinar_scale_ok"]),
    ]
    print("targets (2 cores, 3,000 peers): " + "; ".join(
        f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))
    return out


def main(args: argparse.Namespace) -> None:
    if not 10 <= args.peers <= MAX_WEBINAR_PEERS:
        raise SystemExit(f"--webinar: --peers must be 10..{MAX_WEBINAR_PEERS}")
    raise_fd_limit(args.peers + PRESENTERS)
    print(f"salon webinar benchmark: {PRESENTERS} on stage, {args.peers} audience,"
          f" stage {STAGE_RATE:g} msg/s, chat {CHAT_RATE:g} msg/s for {args.seconds:g} s,"
          f" {POLLS} polls")
    server = start("")
    try:
        result = run_load(run_webinar(server, args))
    finally:
        cleanup(server)
    print(json.dumps(report(args, result)), flush=True)
