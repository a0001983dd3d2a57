"""Realtime commands of the stores feature (see docs/protocol.md, docs/plugins-and-stores.md).

Every write — set, update, delete, bulk set, bulk delete — draws on one budget of 5 per
second per participant (reference §9); a bulk request counts as one write. The rules and
bounds live in `salon.core.room.stores`.
"""

from typing import Annotated, Any

from pydantic import Field

from salon.core.ratelimit import Limit
from salon.core.room import stores
from salon.core.schema import Strict, text
from salon.realtime.commands.base import AsyncCommand, Command

StoreName = text(stores.MAX_NAME_CHARS, min_length=1)
Key = text(stores.MAX_KEY_CHARS, min_length=1)
BulkKeys = Annotated[list[Key], Field(min_length=1, max_length=stores.MAX_BULK)]
FollowKeys = Annotated[list[Key], Field(min_length=1, max_length=stores.MAX_KEYS_PER_STORE)]

WRITES = Limit("store_writes", 5, 1)
READS = Limit("store_reads", 20, 1)


class StoreRef(Strict):
    store: StoreName


class KeyRef(Strict):
    store: StoreName
    key: Key


class SetValue(Strict):
    store: StoreName
    key: Key
    value: Any


class BulkSet(Strict):
    store: StoreName
    items: Annotated[dict[Key, Any], Field(min_length=1, max_length=stores.MAX_BULK)]


class BulkDelete(Strict):
    store: StoreName
    keys: BulkKeys


class Follow(Strict):
    store: StoreName
    keys: FollowKeys | None = None


COMMANDS: dict[str, Command | AsyncCommand] = {
    "store.set": Command(SetValue, lambda h, me, p: lambda: stores.set_value(
        h.room, me, p.store, p.key, p.value), limit=WRITES),
    "store.update": Command(SetValue, lambda h, me, p: lambda: stores.update_value(
        h.room, me, p.store, p.key, p.value), limit=WRITES),
    "store.delete": Command(KeyRef, lambda h, me, p: lambda: stores.delete(
        h.room, me, p.store, [p.key]), limit=WRITES),
    "store.bulk_set": Command(BulkSet, lambda h, me, p: lambda: stores.bulk_set(
        h.room, me, p.store, p.items), limit=WRITES),
    "store.bulk_delete": Command(BulkDelete, lambda h, me, p: lambda: stores.delete(
        h.room, me, p.store, p.keys), limit=WRITES),
    "store.get": Command(KeyRef, lambda h, me, p: lambda: stores.get(
        h.room, me, p.store, p.key), limit=READS),
    "store.get_all": Command(StoreRef, lambda h, me, p: lambda: stores.get_all(
        h.room, me, p.store), limit=READS),
    "store.subscribe": Command(Follow, lambda h, me, p: lambda: stores.subscribe(
        h.room, me, p.store, p.keys), limit=READS),
    "store.unsubscribe": Command(Follow, lambda h, me, p: lambda: stores.unsubscribe(
        h.room, me, p.store, p.keys), limit=READS),
}
