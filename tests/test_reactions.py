"""Emoji reactions over the realtime protocol: everyone joined hears them (the sender
too), only allow-listed emoji pass, and a flood is cut off by the budget."""

import asyncio
import json
import re
from pathlib import Path

import pytest

from salon.client import RealtimeError
from salon.core.room.reactions import REACTIONS
from salon.realtime.commands import COMMANDS
from tests.live import Meeting
from tests.test_hands import hidden_and_waiting


async def test_a_reaction_reaches_everyone_joined_the_sender_too(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    viewer = await room.join("webinar_viewer")
    reply = await guest.react("👏")
    assert reply["delivered_to"] == 3
    for peer in (host, guest, viewer):
        seen = await peer.wait_for("reaction")
        assert seen["peer_id"] == guest.peer_id and seen["emoji"] == "👏"
        assert seen["timestamp"].endswith("Z")
    await guest.react("❤️")  # U+2764 U+FE0F, exactly as listed
    assert (await host.wait_for("reaction"))["emoji"] == "❤️"


async def test_only_allow_listed_emoji_pass(room: Meeting) -> None:
    guest = await room.join()
    other = await room.join()
    for emoji in ("💩", "❤", "👍👍", "", "hello", "<b>x</b>", "👍🏽"):
        with pytest.raises(RealtimeError) as refused:
            await guest.react(emoji)
        assert refused.value.code == "INVALID", emoji
    for data in ({}, {"emoji": 1}, {"emoji": "👍", "extra": True}):
        with pytest.raises(RealtimeError) as refused:
            await guest.request("reaction.send", **data)
        assert refused.value.code == "INVALID"
    await asyncio.sleep(0.2)
    assert other.drain("reaction") == []
    assert (await guest.react("👍"))["delivered_to"] == 2  # the connection carries on
    assert len(REACTIONS) >= 6


async def test_a_flood_of_reactions_is_rate_limited(room: Meeting) -> None:
    flooder = await room.join()
    other = await room.join()
    limit = COMMANDS["reaction.send"].limit
    sent, refused = 0, None
    for _ in range(int(limit.capacity) + 10):
        try:
            await flooder.react("🎉")
            sent += 1
        except RealtimeError as error:
            refused = error
            break
    assert refused is not None and refused.code == "RATE_LIMITED"
    assert 0 < refused.retry_after_ms <= 1000 * limit.per / limit.rate
    assert limit.capacity <= sent <= limit.capacity + 2  # a few refill while we send
    await asyncio.sleep(0.3)
    assert len(other.drain("reaction")) == sent


async def test_waiting_and_hidden_peers_cannot_react(room: Meeting) -> None:
    ghost, waiting = await hidden_and_waiting(room)
    with pytest.raises(RealtimeError) as refused:
        await ghost.react("👍")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(RealtimeError) as early:
        await waiting.react("👍")
    assert early.value.code == "NOT_JOINED"


def test_the_browser_sdk_offers_exactly_the_server_allow_list() -> None:
    sdk = (Path(__file__).parents[1] / "src/salon/web/sdk/salon.js").read_text()
    listed = re.search(r"export const REACTIONS = Object\.freeze\((\[.*?\])\)", sdk)
    assert listed is not None
    assert json.loads(listed.group(1)) == list(REACTIONS)
