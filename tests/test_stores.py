"""Collaborative stores: every operation, subscriptions, the write limit, bounds, sessions."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from salon.client import RealtimeClient, RealtimeError
from salon.core.presets import Permissions
from salon.core.room import Peer, Room, RoomError
from salon.core.room import stores as rules
from tests.live import Meeting


async def _refused(call: Any, code: str, *needles: str) -> None:
    with pytest.raises(RealtimeError) as refused:
        await call
    assert refused.value.code == code, refused.value
    for needle in needles:
        assert needle in refused.value.message, refused.value.message


async def _quiet(*peers: RealtimeClient) -> None:
    await asyncio.sleep(0.1)
    for peer in peers:
        assert peer.drain("store.changed") == []


# --- with real clients --------------------------------------------------------------------


async def test_set_get_update_delete(room: Meeting) -> None:
    # three writers, as each participant may write 5 times a second
    ada, bob, cy = await room.join(), await room.join(), await room.join()
    reply = await ada.store_set("board", "title", "Plan")
    assert reply == {"store": "board", "changes": [{"key": "title", "value": "Plan"}]}
    assert await bob.store_get("board", "title") == "Plan"
    await ada.store_set("board", "user", {"name": "Ada"})
    reply = await bob.store_update("board", "user", {"age": 36})
    assert reply["changes"] == [{"key": "user", "value": {"name": "Ada", "age": 36}}]
    await ada.store_set("board", "tags", ["a", "b"])
    await bob.store_update("board", "tags", ["c"])          # a list is concatenated
    await bob.store_update("board", "tags", {"d": 1})       # anything else is one more item
    assert await ada.store_get("board", "tags") == ["a", "b", "c", {"d": 1}]
    await bob.store_update("board", "fresh", 5)            # a missing key is simply set
    await _refused(bob.store_update("board", "title", "x"), "INVALID", "a string",
                   "store.set")
    await _refused(cy.store_update("board", "user", [1]), "INVALID", "an object")

    assert await ada.store_get_all("board") == {
        "title": "Plan", "user": {"name": "Ada", "age": 36},
        "tags": ["a", "b", "c", {"d": 1}], "fresh": 5}
    reply = await cy.store_delete("board", "title")
    assert reply["changes"] == [{"key": "title", "deleted": True}]
    assert (await cy.store_delete("board", "title"))["changes"] == []  # already gone
    got = await bob.request("store.get", store="board", key="title")
    assert got == {"store": "board", "key": "title", "found": False, "value": None}
    assert await bob.store_get_all("nothing-here") == {}
    await cy.store_set("board", "nothing", None)              # null is a value like any
    assert (await bob.request("store.get", store="board", key="nothing"))["found"] is True


async def test_bulk_operations(room: Meeting) -> None:
    ada, bob = await room.join(), await room.join()
    await bob.store_subscribe("grid")
    reply = await ada.store_bulk_set("grid", {"a1": 1, "a2": [2], "a3": {"v": 3}})
    assert [c["key"] for c in reply["changes"]] == ["a1", "a2", "a3"]
    changed = await bob.wait_for("store.changed")
    assert changed["store"] == "grid" and changed["by_peer_id"] == ada.peer_id
    assert changed["changes"] == reply["changes"]
    reply = await ada.store_bulk_delete("grid", ["a1", "a3", "zz"])
    assert reply["changes"] == [{"key": "a1", "deleted": True}, {"key": "a3", "deleted": True}]
    assert (await bob.wait_for("store.changed"))["changes"] == reply["changes"]
    assert await bob.store_get_all("grid") == {"a2": [2]}


async def test_subscriptions_follow_keys_or_everything(room: Meeting) -> None:
    writer, keyed, everything, bystander = [await room.join() for _ in range(4)]
    await bystander.store_set("doc", "x", 0)
    followed = await keyed.store_subscribe("doc", ["x", "z"])
    assert followed == {"store": "doc", "keys": ["x", "z"], "items": {"x": 0}}
    assert (await everything.store_subscribe("doc"))["keys"] == ["*"]
    await writer.store_subscribe("doc")  # writers do not hear their own changes

    await writer.store_bulk_set("doc", {"x": 1, "y": 2})
    assert (await keyed.wait_for("store.changed"))["changes"] == [{"key": "x", "value": 1}]
    assert [c["key"] for c in (await everything.wait_for("store.changed"))["changes"]] == \
        ["x", "y"]
    await writer.store_set("doc", "y", 3)            # nobody keyed follows y
    assert (await everything.wait_for("store.changed"))["changes"] == [{"key": "y",
                                                                        "value": 3}]
    await writer.store_set("other", "x", 9)          # another store
    await _quiet(keyed, everything, bystander, writer)

    reply = await keyed.store_unsubscribe("doc", ["x"])
    assert reply["keys"] == ["z"]
    await everything.store_unsubscribe("doc")
    await writer.store_set("doc", "x", 4)
    await _quiet(keyed, everything)
    await keyed.store_subscribe("other", ["x"])
    await writer.store_delete("other", "x")
    deleted = await keyed.wait_for("store.changed")
    assert deleted == {"store": "other", "changes": [{"key": "x", "deleted": True}],
                       "by_peer_id": writer.peer_id}


async def test_five_writes_a_second_per_participant(room: Meeting) -> None:
    ada, bob = await room.join(), await room.join()
    results = await asyncio.gather(*(ada.store_set("s", f"k{i}", i) for i in range(6)),
                                   return_exceptions=True)
    assert all(isinstance(r, dict) for r in results[:5]), results
    assert isinstance(results[5], RealtimeError) and results[5].code == "RATE_LIMITED"
    assert "store_writes" in results[5].message
    for write in (ada.store_update("s", "k0", 1), ada.store_delete("s", "k0"),
                  ada.store_bulk_set("s", {"x": 1}), ada.store_bulk_delete("s", ["x"])):
        await _refused(write, "RATE_LIMITED")
    assert await ada.store_get("s", "k4") == 4  # reads have their own budget
    await bob.store_set("s", "bob", 1)          # and each participant its own

    await asyncio.sleep(1.05)
    big = {f"b{i}": i for i in range(rules.MAX_BULK)}
    await ada.store_bulk_set("s", big)          # a bulk request is one write
    results = await asyncio.gather(*(ada.store_set("s", "again", i) for i in range(5)),
                                   return_exceptions=True)
    assert sum(isinstance(r, RealtimeError) for r in results) == 1
    assert len(await bob.store_get_all("s")) == 5 + 1 + rules.MAX_BULK + 1


async def test_invalid_store_requests(room: Meeting) -> None:
    ada = await room.join()
    for data, needle in [
        ({"store": "", "key": "k", "value": 1}, "store"),
        ({"store": "s" * 101, "key": "k", "value": 1}, "store"),
        ({"store": "s", "key": "k" * 257, "value": 1}, "key"),
        ({"store": "s", "key": "", "value": 1}, "key"),
        ({"store": 5, "key": "k", "value": 1}, "store"),
        ({"store": "s", "key": "k"}, "value"),
        ({"store": "s", "key": "k", "value": 1, "ttl": 5}, "ttl"),
    ]:
        await _refused(ada.request("store.set", **data), "INVALID", needle)
    await _refused(ada.request("store.bulk_set", store="s", items={}), "INVALID", "items")
    await _refused(ada.store_bulk_set("s", {f"k{i}": i for i in range(101)}), "INVALID",
                   "items")
    await _refused(ada.store_bulk_delete("s", []), "INVALID", "keys")
    await _refused(ada.store_subscribe("s", []), "INVALID", "keys")
    await _refused(ada.request("store.get", store="s"), "INVALID", "key")
    await _refused(ada.request("store.nope", store="s"), "UNKNOWN_TYPE")
    # an update may not grow a value past 64 KiB
    chunk = "x" * 40_000
    await ada.store_set("s", "log", [chunk])
    await _refused(ada.store_update("s", "log", [chunk]), "INVALID", "65536")
    assert await ada.store_get("s", "log") == [chunk]


async def test_stores_end_with_the_session(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    await host.store_bulk_set("notes", {"a": 1, "b": 2})
    await guest.store_subscribe("notes")
    assert await guest.store_get_all("notes") == {"a": 1, "b": 2}
    first_session = host.joined["room"]["session_id"]
    await host.kick_all()
    await asyncio.wait_for(guest.closed.wait(), 5)

    host = await room.join("group_call_host")
    guest = await room.join()
    assert host.joined["room"]["session_id"] != first_session
    assert await guest.store_get_all("notes") == {}
    await host.store_set("notes", "c", 3)
    assert await guest.store_get_all("notes") == {"c": 3}


# --- bounds, on the room itself -----------------------------------------------------------

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _room(*names: str) -> Room:
    room = Room("meeting", "bounds")
    for name in names:
        peer = Peer(peer_id=name, participant_id=f"participant-{name}",
                    custom_participant_id=name, name=name, picture=None,
                    preset_name="group_call_participant", view_type="GROUP_CALL",
                    permissions=Permissions())
        room.connect(peer, NOW)
    return room


def _invalid(call: Any, *needles: str) -> None:
    with pytest.raises(RoomError) as refused:
        call()
    assert refused.value.code == "INVALID"
    for needle in needles:
        assert needle in refused.value.message, refused.value.message


def test_keys_and_bytes_per_store_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    room = _room("ada")
    rules.bulk_set(room, "ada", "s", {f"k{i}": i for i in range(rules.MAX_BULK)})
    for start in range(rules.MAX_BULK, rules.MAX_KEYS_PER_STORE, rules.MAX_BULK):
        rules.bulk_set(room, "ada", "s", {f"k{i}": i for i in range(start, start + 100)})
    _invalid(lambda: rules.set_value(room, "ada", "s", "one-more", 1), "1000 keys")
    rules.set_value(room, "ada", "s", "k0", "replacing is fine")
    rules.delete(room, "ada", "s", ["k1"])
    rules.set_value(room, "ada", "s", "one-more", 1)

    big = "x" * 60_000
    for i in range(17):
        rules.set_value(room, "ada", "t", f"big{i}", big)
    _invalid(lambda: rules.set_value(room, "ada", "t", "big17", big), "1048576 bytes")
    assert len(rules.get_all(room, "ada", "t").reply["items"]) == 17
    _invalid(lambda: rules.set_value(room, "ada", "t", "huge", "x" * 70_000), "65536")

    monkeypatch.setattr(rules, "MAX_SESSION_BYTES", room.stores.bytes + 100)
    _invalid(lambda: rules.set_value(room, "ada", "u", "v", "x" * 200), "in all")


def test_stores_per_session_are_bounded() -> None:
    room = _room("ada")
    for i in range(rules.MAX_STORES):
        rules.set_value(room, "ada", f"store-{i}", "k", i)
    _invalid(lambda: rules.set_value(room, "ada", "one-too-many", "k", 1), "100 stores")
    _invalid(lambda: rules.subscribe(room, "ada", "one-too-many", None), "100 stores")
    rules.delete(room, "ada", "store-0", ["k"])  # an empty, unfollowed store goes away
    rules.set_value(room, "ada", "one-too-many", "k", 1)


def test_accounting_follows_every_write() -> None:
    room = _room("ada", "bob")
    rules.set_value(room, "ada", "s", "a", {"x": 1})
    rules.update_value(room, "bob", "s", "a", {"y": 2})
    rules.bulk_set(room, "ada", "s", {"b": [1], "c": "text"})
    rules.update_value(room, "bob", "s", "b", [2, 3])
    rules.delete(room, "ada", "s", ["c", "missing"])
    store = room.stores.stores["s"]
    expected = {k: len(k) + len(orjson.dumps(v)) for k, v in store.data.items()}
    assert store.sizes == expected and store.bytes == sum(expected.values())
    assert room.stores.bytes == store.bytes
    rules.delete(room, "bob", "s", ["a", "b"])
    assert "s" not in room.stores.stores and room.stores.bytes == 0

    # a departed subscriber is forgotten at the next change
    rules.subscribe(room, "bob", "s", ["a"])
    room.leave("bob", NOW)
    out = rules.set_value(room, "ada", "s", "a", 1)
    assert out.events == [] and room.stores.stores["s"].subscribers == {}
