"""Every realtime request type has a budget per participant, docs/protocol.md lists each
one with the server's numbers, and a request over its budget says when to come back."""

import asyncio
import time
from pathlib import Path

import pytest

from salon.client import RealtimeError
from salon.core.ratelimit import Limit, TokenBucket
from salon.realtime.commands import COMMANDS
from tests.live import Meeting

PROTOCOL_DOC = Path(__file__).parents[1] / "docs" / "protocol.md"


def _budget_table() -> dict[str, tuple[float, float, float, str]]:
    """The rows of the table under `## Budgets`: type → (requests, per, burst, bucket)."""
    text = PROTOCOL_DOC.read_text()
    section = text.split("\n## Budgets\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[float, float, float, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`"):
            continue
        kind, rate, per, burst, bucket = cells
        assert kind.strip("`") not in rows, f"{kind} listed twice"
        rows[kind.strip("`")] = (float(rate), float(per), float(burst), bucket.strip("`"))
    return rows


def test_every_request_type_has_a_budget_and_the_docs_list_it_with_the_same_numbers() -> None:
    table = _budget_table()
    for kind, command in COMMANDS.items():
        assert isinstance(command.limit, Limit), f"{kind} has no budget"
    assert {"ping", "leave", "state", "self.media", "self.rename", "peer.pin",
            "waitlist.list", "host.kick"} <= COMMANDS.keys()
    assert table.keys() == COMMANDS.keys()
    for kind, command in COMMANDS.items():
        limit = command.limit
        assert table[kind] == (limit.rate, limit.per, limit.capacity, limit.bucket), kind


def test_request_types_sharing_a_bucket_agree_on_its_numbers() -> None:
    # A bucket is made by the first request that uses it: two sizes would be a lottery.
    seen: dict[str, Limit] = {}
    for kind, command in COMMANDS.items():
        first = seen.setdefault(command.limit.bucket, command.limit)
        assert (first.rate, first.per, first.capacity) == (
            command.limit.rate, command.limit.per, command.limit.capacity), kind


def test_a_token_bucket_says_how_long_until_its_next_token() -> None:
    bucket = TokenBucket.of(Limit("x", 2, 1, burst=3))
    assert [bucket.allow(10.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after_ms(10.0) == 500
    assert bucket.retry_after_ms(10.2) == 300
    assert not bucket.allow(10.49)
    assert bucket.allow(10.5)
    assert bucket.retry_after_ms(10.5) == 500
    assert TokenBucket.of(Limit("y", 180, 60)).retry_after_ms(0.0) == 0  # one is there
    slow = TokenBucket.of(Limit("z", 1, 3))
    assert slow.allow(0.0) and slow.retry_after_ms(1.0) == 2000


async def test_a_flood_of_media_toggles_is_refused_with_a_retry_after(room: Meeting) -> None:
    flooder = await room.join()
    other = await room.join()
    limit = COMMANDS["self.media"].limit
    refused: RealtimeError | None = None
    for n in range(int(limit.capacity) + 5):
        try:
            await flooder.set_media(audio=n % 2 == 0)
        except RealtimeError as error:
            refused = error
            break
    assert refused is not None and refused.code == "RATE_LIMITED"
    assert isinstance(refused.retry_after_ms, int)
    assert 0 < refused.retry_after_ms <= 1000 * limit.per / limit.rate
    # Nobody else's budget is touched, and the room carries on.
    assert (await other.set_media(audio=True))["media"]["audio"] is True
    await asyncio.sleep(refused.retry_after_ms / 1000)
    await flooder.set_media(audio=True)  # waiting that long is enough


async def test_a_participants_peers_share_its_budget(room: Meeting) -> None:
    participant = await room.participant()
    first = await room.connect(participant["token"])
    second = await room.connect(participant["token"])
    limit = COMMANDS["self.rename"].limit
    started = time.monotonic()
    for n in range(int(limit.capacity)):
        await (first if n % 2 else second).rename(f"Name {n}")
    assert time.monotonic() - started < 1 / limit.rate  # no token came back meanwhile
    with pytest.raises(RealtimeError) as refused:
        await first.rename("one too many")
    assert refused.value.code == "RATE_LIMITED" and refused.value.retry_after_ms > 0


async def test_host_actions_have_a_budget(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    codes = []
    for _ in range(int(COMMANDS["host.disable_media"].limit.capacity) + 3):
        try:
            await host.disable_media([guest.peer_id], ["audio"])
            codes.append("ok")
        except RealtimeError as error:
            codes.append(error.code)
    assert codes[-1] == "RATE_LIMITED" and "ok" in codes
    assert set(codes) == {"ok", "RATE_LIMITED"}
    # The whole `host` bucket is spent: another host request waits too.
    with pytest.raises(RealtimeError, match="RATE_LIMITED"):
        await host.mute_all()
    assert (await guest.ping())["pong"]

