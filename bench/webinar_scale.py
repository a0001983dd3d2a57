"""The webinar's "everything else still works at that size" phases (bench/webinar.py).

After the stage, chat and polls, with the whole audience still in the room:

1. **Q&A**: the host asks; every audience peer upvotes once. The count must be exact.
2. **Stage requests**: `STAGE_REQUESTERS` audience peers ask to come on stage at once;
   the host's `stage.list_requests` must list every one.
3. **Waiting room**: `waiting` more people (a `SKIP_ON_ACCEPT` preset) join and wait;
   the host admits them all with one `waitlist.admit {all: true}`; every one must hear
   `self.admitted`.
4. **Kick-all**: the host ends the session (`host.kick_all`); every connection must be
   closed with 4005.
5. **The session record** (REST): every participant who joined is in the session's
   participant list, with a join and a leave time and whole minutes that agree.

Each phase prints whether it was exact and how long it took; `report` adds them to the
last line (`webinar_scale_ok` is all of them).
"""

import asyncio
import time
from datetime import datetime
from typing import Any

from tests.servers import SalonServer

from bench.realtime import Load, LoadPeer
from salon.client import RealtimeClient
from salon.client.admin import AdminClient

STAGE_REQUESTERS = 300
WAITING_PRESET = "bench_waiting"
UPVOTE = '{"type":"qna.upvote","data":{"question_id":"%s"}}'
STAGE_REQUEST = b'{"type":"stage.request","data":{}}'
CLOSE_ENDED = 4005
PHASE_CAP_S = 60.0


class WaitingPeer(LoadPeer):
    """The load client, noting when the host's admission reached it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admitted_at: float | None = None

    def _message(self, data: bytes, now: float) -> None:
        if self.admitted_at is None and data.startswith(
                b'{"type":"event","event":"self.admitted"'):
            self.admitted_at = now
        super()._message(data, now)


async def add_waiting_preset(admin: AdminClient) -> None:
    await admin.create_preset(WAITING_PRESET, config={"view_type": "WEBINAR"},
                              permissions={"stage_enabled": True,
                                           "stage_access": "CAN_REQUEST",
                                           "waiting_room_type": "SKIP_ON_ACCEPT"})


async def until(check: Any, cap: float = PHASE_CAP_S, every: float = 0.2) -> float:
    """Seconds until `check()` (sync or async) holds; the cap if it never does."""
    began = time.perf_counter()
    while time.perf_counter() - began < cap:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            break
        await asyncio.sleep(every)
    return time.perf_counter() - began


async def questions(host: RealtimeClient, audience: list[LoadPeer]) -> dict[str, Any]:
    question = await host.ask("Will the slides be shared?")
    voters = [peer for peer in audience if not peer.closed]
    began = time.perf_counter()
    for i, peer in enumerate(voters):
        peer.send_text((UPVOTE % question["id"]).encode())
        if i % 100 == 99:
            await asyncio.sleep(0)

    async def counted() -> bool:
        [listed] = [q for q in await host.questions() if q["id"] == question["id"]]
        return listed["upvotes"] >= len(voters)

    await until(counted)
    [listed] = [q for q in await host.questions() if q["id"] == question["id"]]
    return {"upvoters": len(voters), "upvotes": listed["upvotes"],
            "exact": listed["upvotes"] == len(voters) == len(set(listed["upvoted_by"])),
            "s": time.perf_counter() - began}


async def stage_requests(host: RealtimeClient, audience: list[LoadPeer]) -> dict[str, Any]:
    askers = [peer for peer in audience if not peer.closed][:STAGE_REQUESTERS]
    began = time.perf_counter()
    for peer in askers:
        peer.send_text(STAGE_REQUEST)
    listed: list[Any] = []

    async def all_listed() -> bool:
        nonlocal listed
        listed = (await host.request("stage.list_requests"))["requests"]
        return len(listed) >= len(askers)

    await until(all_listed, every=0.5)  # stage.list_requests: 2 a second
    return {"requesters": len(askers), "listed": len(listed),
            "exact": len(listed) == len(askers), "s": time.perf_counter() - began}


async def waiting_room(host: RealtimeClient, waiting: Load, port: int,
                       tokens: list[str], join_all: Any, pid: int) -> dict[str, Any]:
    await join_all(waiting, port, "/realtime/v1", tokens, False, pid, WaitingPeer)
    waiters = [peer for peer in waiting.peers if isinstance(peer, WaitingPeer)]

    async def all_listed() -> bool:
        return len((await host.request("waitlist.list"))["waiting"]) >= len(waiters)

    await until(all_listed, every=0.5)
    began = time.perf_counter()
    await host.admit()  # all: true
    await until(lambda: all(p.admitted_at is not None for p in waiters), every=0.05)
    times = [p.admitted_at for p in waiters if p.admitted_at is not None]
    return {"waiting": len(tokens), "joined_waiting": len(waiters), "admitted": len(times),
            "exact": len(times) == len(tokens),
            "admit_all_s": max(times) - began if times else None,
            "admitted_p99_s": _p99([p.admitted_at - began for p in waiters
                                    if p.admitted_at is not None])}


async def kick_all(host: RealtimeClient, loads: list[Load]) -> dict[str, Any]:
    peers = [peer for load in loads for peer in load.peers if not peer.closed]
    for load in loads:
        load.closing = True  # these closes are the point, not drops
    began = time.perf_counter()
    await host.kick_all()
    await until(lambda: all(p.closed for p in peers), every=0.05)
    took = time.perf_counter() - began
    ended = sum(p.close_code == CLOSE_ENDED for p in peers)
    return {"peers": len(peers), "closed_4005": ended, "exact": ended == len(peers),
            "s": took}


async def session_record(server: SalonServer, meeting_id: str,
                         expected: int) -> dict[str, Any]:
    """Every participant who joined, with join and leave times and agreeing minutes."""
    async with AdminClient(server.url, server.account_id, server.app_id, server.api_token,
                           timeout=60) as admin:
        sessions: list[Any] = []

        async def ended() -> bool:
            nonlocal sessions
            page = await admin.sessions(associated_id=meeting_id, status="ENDED")
            sessions = page["data"]["sessions"]
            return bool(sessions)

        await until(ended)
        if not sessions:
            return {"exact": False, "why": "no ended session"}
        people: list[Any] = []
        page_no = 1
        while True:
            page = await admin.page(f"/sessions/{sessions[0]['id']}/participants",
                                    page_no=page_no, per_page=100)
            people += page["data"]["participants"]
            if len(people) >= page["paging"]["total_count"] or not page["data"]["participants"]:
                break
            page_no += 1
    complete = [p for p in people if p.get("joined_at") and p.get("left_at")]
    minutes_right = sum(1 for p in complete if _minutes_agree(p))
    return {"expected": expected, "listed": len(people), "with_join_and_leave": len(complete),
            "minutes_right": minutes_right,
            "exact": len(people) == len(complete) == minutes_right == expected}


def _minutes_agree(participant: dict[str, Any]) -> bool:
    joined = datetime.fromisoformat(participant["joined_at"].replace("Z", "+00:00"))
    left = datetime.fromisoformat(participant["left_at"].replace("Z", "+00:00"))
    seconds = (left - joined).total_seconds()
    minutes = participant.get("duration")
    return seconds >= 0 and minutes is not None and abs(minutes * 60 - seconds) < 1


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
