"""Benchmark of chat: N peers in one `persist_chat` session, text messages fanned out to all.

Starts `salon serve` (SQLite) as a subprocess on 127.0.0.1, creates a meeting with
`persist_chat: true` and N `group_call_participant`s over REST (setup, not measured), and
drives the WebSocket gateway from this process with bench/realtime.py's lean load client
(send and receive times come from the same clock). Phases, in one session with the same
peers:

  join       connect + join all N peers, 50 in flight; wait until their events settle
  broadcast  the baseline: `--senders` peers take turns to send `--rate` `broadcast`s/s in
             total for `--seconds` (the realtime fan-out, no database)
  chat       the same senders, rate and length with `chat.send` text messages: each is
             stored and committed before its reply and its `chat.message` events
  export     `kick-all` ends the session, then the S6 export (GET …/sessions/{id}/chat ->
             a signed link -> the CSV) must hold every acknowledged message exactly once,
             with the text that was sent

Per phase: delivery latency (receive - send, over every receiver of every message),
delivered/s (deliveries / first send -> last delivery, at least the send window), lost
deliveries (each acknowledged message should reach all N - 1 other peers; counted per
message after a drain), server CPU. For chat also send -> reply latency (stored and
committed) and rejections. `chat_vs_broadcast_p99_ratio` is the chat delivery p99 divided
by the broadcast one: what storing each message costs on top of the fan-out.

The last line of output is one JSON object (`peers`, `messages`, `delivered_per_s`,
`delivery_p50_ms`, `delivery_p99_ms`, `lost`, `export_rows`, `export_missing`,
`server_cpu_pct`, `broadcast_delivery_p99_ms`, `chat_vs_broadcast_p99_ratio`, ...). Target
on 2 cores, 200 peers, 50 messages/s: chat delivery p99 < 200 ms, `lost` = 0 and
`export_missing` = 0; the exit status is 1 if a message was lost or missing from the
export, or the run failed. Everything is bounded: per-step timeouts, drain caps and an
overall cap; the server stops on errors, Ctrl-C and SIGTERM.

`--profile PHASE` samples the salon server with py-spy during that phase (`--native` adds
C frames), as in bench/realtime.py.

Run from the repo root:

    .venv/bin/python bench/chat.py [--peers 200] [--senders 50] [--rate 50] [--seconds 20]
        [--no-deflate] [--no-baseline] [--profile {join,broadcast,chat} [--native]]
"""

import argparse
import asyncio
import contextlib
import csv
import io
import json
import os
import sys
import time
import traceback
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from tests.servers import SalonServer, cleanup, start  # noqa: E402

from bench.api import own_cpu, process_cpu  # noqa: E402
from bench.realtime import (  # noqa: E402
    FIXED_DRAIN_CAP_S,
    JOIN_CONCURRENCY,
    NOISY_OTHER_PCT,
    SETUP_CONCURRENCY,
    STALL_S,
    Load,
    LoadPeer,
    Profiler,
    ServerRun,
    Tally,
    fanout,
    fmt,
    install_exit_handlers,
    join_all,
    keepalive,
    machine_cpu,
    percentile_ms,
    raise_fd_limit,
    rnd,
    run_load,
    settle,
)
from salon.client.admin import AdminClient  # noqa: E402

MAX_PEERS = 1000
MAX_SECONDS = 60.0
TARGET_P99_MS = 200.0
CHAT_PER_SENDER_PER_S = 3.0  # salon's chat budget: 180 per minute per participant
BROADCAST_PER_SENDER_PER_S = 5.0  # and its broadcast budget
CHAT_DRAIN_CAP_S = 15.0
EXPORT_TIMEOUT_S = 60.0
KICK_WAIT_S = 10.0  # for the server to close every connection after kick-all
RUN_CAP_S = 420.0  # the whole load run against the server

CHAT_ID_BASE = 1_000_000  # request ids of chat.send: CHAT_ID_BASE + message number
CHAT_SEND = '{"id":%d,"type":"chat.send","data":{"type":"text","text":"%s"}}'
CHAT_TEXT = "chatbench %d %r"  # message number, send time (perf_counter)
CHAT_EVENT = b'{"type":"event","event":"chat.message"'
TEXT_MARK = b'"text":"chatbench '
REPLY_HEAD = b'{"type":"reply","id":'


# --- measurements ---------------------------------------------------------------------------


@dataclass
class ChatTally(Tally):
    """The chat phase: a Tally whose messages count once acknowledged."""

    sent_at: array = field(default_factory=lambda: array("d"))  # per message number
    texts: list[str] = field(default_factory=list)
    counts: array = field(default_factory=lambda: array("i"))  # deliveries per message
    acked_ids: dict[int, str] = field(default_factory=dict)  # message number -> message id
    ack_latencies: array = field(default_factory=lambda: array("d"))  # send -> reply, s
    session_ids: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)

    def prepare(self, count: int) -> None:
        self.sent_at = array("d", bytes(8 * count))
        self.counts = array("i", bytes(4 * count))
        self.texts = [""] * count

    @property
    def acked(self) -> int:
        return len(self.acked_ids)

    @property
    def answered(self) -> int:
        return self.acked + self.rejected

    @property
    def expected(self) -> int:
        return self.acked * self.fan

    @property
    def lost(self) -> int:
        return sum(max(0, self.fan - self.counts[n]) for n in self.acked_ids)

    @property
    def duplicates(self) -> int:
        return sum(max(0, c - self.fan) for c in self.counts)

    @property
    def unacked_deliveries(self) -> int:
        """Deliveries of messages never acknowledged (should not exist: reply first)."""
        return sum(c for n, c in enumerate(self.counts) if n not in self.acked_ids)


@dataclass
class Export:
    session_id: str = ""
    kicked: int | None = None
    rows: int = 0
    missing: int = 0  # acknowledged, not in the CSV
    duplicated: int = 0  # acknowledged, more than once in the CSV
    extra: int = 0  # rows of messages never acknowledged
    mismatched: int = 0  # acknowledged, but another text or type in the CSV
    seconds: float = 0.0  # link + download


@dataclass
class ChatRun:
    run: ServerRun = field(default_factory=lambda: ServerRun("salon"))
    broadcast: Tally | None = None
    chat: ChatTally | None = None
    export: Export | None = None


class ChatLoad(Load):
    def __init__(self, run: ServerRun) -> None:
        super().__init__(run)
        self.chat: ChatTally | None = None


class ChatPeer(LoadPeer):
    """The load client, also timestamping chat.message events and reading chat.send replies."""

    load: ChatLoad

    def _message(self, data: bytes, now: float) -> None:
        tally = self.load.chat
        if data.startswith(CHAT_EVENT):
            self.load.frames += 1
            i = data.find(TEXT_MARK)
            if i >= 0 and tally is not None:
                i += len(TEXT_MARK)
                j = data.find(b" ", i)
                k = data.find(b'"', j)
                n = int(data[i:j])
                tally.latencies.append(now - float(data[j + 1:k]))
                tally.counts[n] += 1
                tally.last_recv = now
            return
        if data.startswith(REPLY_HEAD) and tally is not None:
            end = data.find(b",", len(REPLY_HEAD))
            request_id = data[len(REPLY_HEAD):end]
            if request_id.isdigit() and int(request_id) >= CHAT_ID_BASE:
                self._chat_reply(tally, int(request_id) - CHAT_ID_BASE, data, now)
                return
        super()._message(data, now)

    def _chat_reply(self, tally: ChatTally, n: int, data: bytes, now: float) -> None:
        body = json.loads(data)
        if body.get("ok"):
            message = body["data"]["message"]
            tally.acked_ids[n] = message["id"]
            tally.session_ids[message["session_id"]] += 1
            tally.ack_latencies.append(now - tally.sent_at[n])
        else:
            tally.rejected += 1
            tally.error_codes[body.get("error", {}).get("code", "?")] += 1
            if len(self.load.run.error_samples) < 5:
                self.load.run.error_samples.append(f"chat.send: {data[:300].decode()}")


# --- phases ---------------------------------------------------------------------------------


async def chat_phase(load: ChatLoad, senders: list[LoadPeer], rate: float, seconds: float,
                     server_pid: int) -> ChatTally:
    """Senders take turns to send `rate` chat messages/s in total for `seconds`."""
    tally = ChatTally("chat", fan=len(load.open_peers()) - 1)
    if tally.fan < 1:
        raise RuntimeError("chat: fewer than 2 connections left open")
    tally.offered_per_s = rate * tally.fan
    count = max(1, round(rate * seconds))
    tally.prepare(count)
    load.chat = tally
    server_before, client_before, machine_before = (process_cpu(server_pid), own_cpu(),
                                                    machine_cpu())
    tally.began = began = time.perf_counter()
    for n in range(count):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = senders[n % len(senders)]
        if sender.closed:
            tally.unsent += 1
            continue
        sent_at = time.perf_counter()
        text = CHAT_TEXT % (n, sent_at)
        tally.sent_at[n], tally.texts[n] = sent_at, text
        sender.send_text((CHAT_SEND % (CHAT_ID_BASE + n, text)).encode())
        tally.sent += 1
    tally.send_end = time.perf_counter()
    seen, progress_at = (-1, -1), tally.send_end
    while (now := time.perf_counter()) < tally.send_end + CHAT_DRAIN_CAP_S:
        if tally.answered >= tally.sent and tally.delivered >= tally.expected:
            break
        if (tally.delivered, tally.answered) != seen:
            seen, progress_at = (tally.delivered, tally.answered), now
        elif now - progress_at > STALL_S:
            break
        await asyncio.sleep(0.02)
    end = time.perf_counter()
    tally.server_cpu = process_cpu(server_pid) - server_before
    tally.client_cpu = own_cpu() - client_before
    tally.other_cpu = machine_cpu() - machine_before - tally.server_cpu - tally.client_cpu
    tally.measured = end - began
    tally.elapsed = max(tally.last_recv or end, began + count / rate) - began
    return tally


async def end_and_export(server: SalonServer, meeting_id: str, load: ChatLoad,
                         tally: ChatTally) -> Export:
    """kick-all ends the session; then its S6 export must hold every acknowledged message."""
    export = Export()
    if tally.session_ids:
        export.session_id = tally.session_ids.most_common(1)[0][0]
    if len(tally.session_ids) > 1:
        print(f"  messages were stored in {len(tally.session_ids)} sessions:"
              f" {dict(tally.session_ids)}")
    load.closing = True  # the server closes every connection now: not a drop
    async with AdminClient(server.url, server.account_id, server.app_id, server.api_token,
                           timeout=EXPORT_TIMEOUT_S) as admin:
        kicked = await admin.kick_all(meeting_id)
        export.kicked = kicked.get("kicked_participants_count")
        deadline = time.perf_counter() + KICK_WAIT_S
        while load.open_peers() and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        if not export.session_id:
            return export
        began = time.perf_counter()
        link = await admin.call("GET", f"/sessions/{export.session_id}/chat")
    async with httpx.AsyncClient(timeout=EXPORT_TIMEOUT_S) as http:  # the link needs no token
        response = await http.get(link["chat_download_url"])
        response.raise_for_status()
    export.seconds = time.perf_counter() - began
    rows = list(csv.DictReader(io.StringIO(response.text)))
    export.rows = len(rows)
    in_csv = Counter(row["id"] for row in rows)
    by_id = {row["id"]: row for row in rows}
    acked = {message_id: n for n, message_id in tally.acked_ids.items()}
    export.missing = sum(1 for message_id in acked if message_id not in in_csv)
    export.duplicated = sum(1 for message_id in acked if in_csv[message_id] > 1)
    export.extra = sum(count for message_id, count in in_csv.items() if message_id not in acked)
    export.mismatched = sum(
        1 for message_id, n in acked.items() if message_id in by_id
        and (by_id[message_id]["payload"] != tally.texts[n]
             or by_id[message_id]["payloadType"] != "TEXT_MESSAGE"))
    return export


async def make_meeting(server: SalonServer, peers: int) -> tuple[str, list[str]]:
    """A `persist_chat` meeting and `peers` participants over REST (setup, not measured)."""
    async with AdminClient(server.url, server.account_id, server.app_id, server.api_token,
                           timeout=30) as admin:
        meeting = await admin.create_meeting(title="chat bench", persist_chat=True)
        if meeting.get("persist_chat") is not True:
            raise RuntimeError(f"the meeting was created without persist_chat: {meeting}")
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def add(i: int) -> str:
            async with gate:
                participant = await admin.add_participant(
                    meeting["id"], f"chat-{i}", "group_call_participant", name=f"Peer {i}")
                return participant["token"]

        return meeting["id"], list(await asyncio.gather(*(add(i) for i in range(peers))))


async def drive(server: SalonServer, args: argparse.Namespace, result: ChatRun) -> None:
    began = time.perf_counter()
    meeting_id, tokens = await make_meeting(server, args.peers)
    print(f"  setup: a persist_chat meeting and {len(tokens)} participants added over REST"
          f" in {time.perf_counter() - began:.1f} s")
    pid = server.process.pid
    load = ChatLoad(result.run)
    pinger = asyncio.create_task(keepalive(load))
    profiler: Profiler | None = None

    def profile(phase: str) -> None:
        nonlocal profiler
        if args.profile == phase:
            profiler = Profiler(pid, args.native)
            time.sleep(1.0)  # let py-spy attach (blocks the loop, before the phase starts)

    def unprofile(phase: str) -> None:
        if profiler is not None and args.profile == phase:
            profiler.stop()

    try:
        profile("join")
        await join_all(load, server.port, "/realtime/v1", tokens, args.deflate, pid,
                       peer_class=ChatPeer)
        unprofile("join")
        print(f"  joined {len(load.peers)} peers in {result.run.join.all_s:.1f} s")
        if len(load.peers) < 2:
            raise RuntimeError(f"only {len(load.peers)} peers joined")
        senders = load.peers[:min(args.senders, len(load.peers) - 1)]
        if args.baseline:
            profile("broadcast")
            result.broadcast = await fanout(load, 1, "broadcast", senders, args.rate,
                                            args.seconds, FIXED_DRAIN_CAP_S, pid)
            unprofile("broadcast")
            print(f"  broadcast: {result.broadcast.delivered} deliveries,"
                  f" p99 {fmt(percentile_ms(result.broadcast.latencies, .99))} ms")
            await settle(load)
        profile("chat")
        result.chat = await chat_phase(load, senders, args.rate, args.seconds, pid)
        unprofile("chat")
        print(f"  chat: {result.chat.acked} messages acknowledged,"
              f" {result.chat.delivered} deliveries,"
              f" p99 {fmt(percentile_ms(result.chat.latencies, .99))} ms")
        result.export = await end_and_export(server, meeting_id, load, result.chat)
        print(f"  export: {result.export.rows} rows")
    finally:
        if profiler is not None and profiler.process.poll() is None:
            profiler.stop()
        load.closing = True
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
        for peer in load.peers:
            peer.close()
        await asyncio.sleep(0.2)
    if profiler is not None and profiler.out.exists():
        from bench.profile_api import hottest
        print(f"\npy-spy on the salon server during the {args.profile} phase:")
        hottest(profiler.out, 30)
        print(f"collapsed stacks: {profiler.out}\n")


async def bench(server: SalonServer, args: argparse.Namespace, result: ChatRun) -> None:
    async with asyncio.timeout(RUN_CAP_S):
        await drive(server, args, result)


# --- report ---------------------------------------------------------------------------------


def report(args: argparse.Namespace, result: ChatRun) -> dict[str, Any]:
    j = result.run.join
    pct = [100 * cpu / j.all_s if j.all_s else 0.0
           for cpu in (j.server_cpu, j.client_cpu, j.other_cpu)]
    noisy = pct[2] > NOISY_OTHER_PCT
    print(f"\njoin ({args.peers} peers, {JOIN_CONCURRENCY} in flight; latency = connect ->"
          " join reply):")
    print(f"  {'joined':>6} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8} {'all s':>7}"
          f" {'settle s':>8} {'srv cpu':>7} {'cli cpu':>7} {'other':>6}")
    print(f"  {len(j.latencies):>6} {j.failed:>6} {fmt(percentile_ms(j.latencies, .5)):>8}"
          f" {fmt(percentile_ms(j.latencies, .99)):>8} {j.all_s:>7.2f} {j.settle_s:>8.2f}"
          f" {pct[0]:>6.0f}% {pct[1]:>6.0f}% {pct[2]:>5.0f}%")

    b, c, e = result.broadcast, result.chat, result.export
    print(f"\nfan-out, {args.rate:g} msg/s for {args.seconds:g} s from {args.senders} senders"
          " (latency = receive - send over all receivers; delivered/s = deliveries /"
          " (first send -> last delivery)):")
    print(f"  {'phase':<10} {'sent':>5} {'rej':>4} {'acked':>5} {'expected':>8} {'lost':>6}"
          f" {'offered/s':>9} {'deliv/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
          f" {'srv cpu':>7} {'cli cpu':>7} {'other':>6} {'srv us/deliv':>12}")
    for t in (b, c):
        if t is None:
            continue
        acked = str(t.acked) if isinstance(t, ChatTally) else "-"
        print(f"  {t.name:<10} {t.sent:>5} {t.rejected:>4} {acked:>5} {t.expected:>8}"
              f" {t.lost:>6} {t.offered_per_s:>9.0f} {t.delivered_per_s:>8.0f}"
              f" {fmt(percentile_ms(t.latencies, .5)):>7}"
              f" {fmt(percentile_ms(t.latencies, .99)):>7}"
              f" {fmt(percentile_ms(t.latencies, 1.0)):>7}"
              f" {t.cpu_pct(t.server_cpu):>6.0f}% {t.cpu_pct(t.client_cpu):>6.0f}%"
              f" {t.cpu_pct(t.other_cpu):>5.0f}% {fmt(t.server_us_per_delivery, '.2f'):>12}")
        noisy = noisy or t.cpu_pct(t.other_cpu) > NOISY_OTHER_PCT
    print("  (cpu: % of one core; other = the rest of the machine; srv us/deliv = server CPU"
          " per delivered message)")
    if noisy:
        print(f"  NOTE: other processes used > {NOISY_OTHER_PCT:g}% of a core during some"
              " phases; their figures are noisy")
    if c is not None:
        print(f"\nchat.send -> reply (stored and committed): p50"
              f" {fmt(percentile_ms(c.ack_latencies, .5))} ms, p99"
              f" {fmt(percentile_ms(c.ack_latencies, .99))} ms, max"
              f" {fmt(percentile_ms(c.ack_latencies, 1.0))} ms; unanswered"
              f" {c.sent - c.answered}; duplicate deliveries {c.duplicates}; deliveries of"
              f" unacknowledged messages {c.unacked_deliveries}"
              + (f"; errors {dict(c.error_codes)}" if c.error_codes else ""))
    if e is not None:
        print(f"export of session {e.session_id} after kick-all ({e.kicked} kicked):"
              f" {e.rows} rows in {e.seconds:.2f} s; acknowledged messages missing"
              f" {e.missing}, duplicated {e.duplicated}, with another text {e.mismatched};"
              f" rows never acknowledged {e.extra}")
    if result.run.dropped:
        print(f"  {result.run.dropped} connections dropped, close codes"
              f" {dict(result.run.close_codes)}")
    for sample in result.run.error_samples:
        print(f"  error: {sample}")

    out: dict[str, Any] = {"peers": args.peers, "senders": args.senders, "rate": args.rate,
                           "seconds": args.seconds, "deflate": args.deflate, "noisy": noisy,
                           "join_all_s": round(j.all_s, 2), "join_failed": j.failed}
    if c is not None:
        out.update(messages=c.sent, acked=c.acked, rejected=c.rejected,
                   unanswered=c.sent - c.answered, expected=c.expected,
                   delivered=c.delivered, offered_per_s=round(c.offered_per_s),
                   delivered_per_s=round(c.delivered_per_s),
                   delivery_p50_ms=rnd(percentile_ms(c.latencies, .5)),
                   delivery_p99_ms=rnd(percentile_ms(c.latencies, .99)),
                   delivery_max_ms=rnd(percentile_ms(c.latencies, 1.0)),
                   ack_p50_ms=rnd(percentile_ms(c.ack_latencies, .5)),
                   ack_p99_ms=rnd(percentile_ms(c.ack_latencies, .99)),
                   lost=c.lost, duplicates=c.duplicates,
                   server_cpu_pct=round(c.cpu_pct(c.server_cpu), 1),
                   client_cpu_pct=round(c.cpu_pct(c.client_cpu), 1),
                   server_us_per_delivery=rnd(c.server_us_per_delivery, 2))
    if e is not None:
        out.update(export_rows=e.rows, export_missing=e.missing,
                   export_duplicated=e.duplicated, export_mismatched=e.mismatched,
                   export_extra=e.extra, export_s=round(e.seconds, 2))
    if b is not None:
        out.update(broadcast_delivery_p50_ms=rnd(percentile_ms(b.latencies, .5)),
                   broadcast_delivery_p99_ms=rnd(percentile_ms(b.latencies, .99)),
                   broadcast_delivered_per_s=round(b.delivered_per_s),
                   broadcast_lost=b.lost, broadcast_rejected=b.rejected,
                   broadcast_server_cpu_pct=round(b.cpu_pct(b.server_cpu), 1),
                   broadcast_us_per_delivery=rnd(b.server_us_per_delivery, 2))
    out["dropped"] = result.run.dropped
    if out.get("delivery_p99_ms") is not None and out.get("broadcast_delivery_p99_ms"):
        out["chat_vs_broadcast_p99_ratio"] = round(
            out["delivery_p99_ms"] / out["broadcast_delivery_p99_ms"], 2)
        print(f"\nchat_vs_broadcast_p99_ratio (delivery p99, chat / broadcast baseline):"
              f" {out['delivery_p99_ms']} / {out['broadcast_delivery_p99_ms']} ms"
              f" = {out['chat_vs_broadcast_p99_ratio']:.2f}")
    if out.get("server_us_per_delivery") and out.get("broadcast_us_per_delivery"):
        out["chat_vs_broadcast_cpu_ratio"] = round(
            out["server_us_per_delivery"] / out["broadcast_us_per_delivery"], 2)
        print(f"chat_vs_broadcast_cpu_ratio (server CPU per delivery, chat / broadcast):"
              f" {out['server_us_per_delivery']} / {out['broadcast_us_per_delivery']} us"
              f" = {out['chat_vs_broadcast_cpu_ratio']:.2f}")
    checks = [
        (f"delivery p99 < {TARGET_P99_MS:g} ms", out.get("delivery_p99_ms"),
         lambda v: v < TARGET_P99_MS),
        ("lost = 0", out.get("lost"), lambda v: v == 0),
        ("export_missing = 0", out.get("export_missing"), lambda v: v == 0),
    ]
    print(f"targets (2 cores, 200 peers, 50 msg/s; this run: {os.cpu_count()} CPUs,"
          f" {args.peers} peers, {args.rate:g} msg/s): " + "; ".join(
              f"{name}: {'-' if value is None else 'met' if ok(value) else 'MISSED'}"
              for name, value, ok in checks))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=200, help=f"2..{MAX_PEERS}")
    parser.add_argument("--senders", type=int, default=50,
                        help="peers that send, taking turns (at most peers - 1)")
    parser.add_argument("--rate", type=float, default=50.0, help="messages/s in total")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help=f"length of each sending phase (at most {MAX_SECONDS:g})")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="clients do not offer permessage-deflate")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the broadcast baseline phase")
    parser.add_argument("--profile", choices=["join", "broadcast", "chat"],
                        help="sample the salon server with py-spy during this phase")
    parser.add_argument("--native", action="store_true",
                        help="with --profile: include C frames")
    args = parser.parse_args()
    if not 2 <= args.peers <= MAX_PEERS:
        parser.error(f"--peers must be 2..{MAX_PEERS}")
    if args.senders < 1 or args.rate <= 0:
        parser.error("--senders and --rate must be positive")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS:g}]")
    args.senders = min(args.senders, args.peers - 1)
    per_sender = args.rate / args.senders
    if per_sender > CHAT_PER_SENDER_PER_S and per_sender * args.seconds > 180:
        print(f"warning: {per_sender:g} chat messages/s per sender for {args.seconds:g} s"
              " exceeds salon's 180/min; some will be RATE_LIMITED")
    if args.baseline and per_sender > BROADCAST_PER_SENDER_PER_S:
        print("warning: more than 5 broadcasts/s per sender; salon will reject some")
    install_exit_handlers()
    raise_fd_limit(args.peers)

    print(f"salon chat benchmark: {args.peers} peers, {os.cpu_count()} CPUs, one persist_chat"
          f" session; {args.senders} senders x {per_sender:g} msg/s = {args.rate:g} msg/s for"
          f" {args.seconds:g} s ({args.rate * (args.peers - 1):,.0f} deliveries/s offered),"
          f" broadcast baseline {'first' if args.baseline else 'skipped'}; permessage-deflate"
          f" {'offered' if args.deflate else 'off'}")
    result = ChatRun()
    failed = False
    server: SalonServer | None = None
    try:
        server = start("")
        run_load(bench(server, args, result))
    except Exception:
        traceback.print_exc()
        print("benchmark failed (traceback on stderr)")
        failed = True
    finally:
        if server is not None:
            if result.run.dropped or failed:
                print("  salon server log, last lines:")
                for line in server.log().splitlines()[-10:]:
                    print(f"    {line}")
            cleanup(server)
    summary = report(args, result)
    print(json.dumps(summary), flush=True)
    if failed or summary.get("lost") or summary.get("export_missing"):
        sys.exit(1)


if __name__ == "__main__":
    main()
