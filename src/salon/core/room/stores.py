"""Collaborative key/value stores of the session (reference §6.5); gone when it ends.

A session has named stores of JSON values. Any joined peer reads and writes them; a peer
that subscribes to some keys of a store (or to `*`, every key) gets `store.changed` with
the changes to those keys that others make. The writer gets the same changes in its
reply. A store exists from its first write or subscription; `Room._fresh_features` gives
each new session an empty `StoreSet`, so nothing outlives the session.

`update` merges an object into an object (shallow) and appends to a list (a list value
is concatenated, anything else is added as one item); a missing key is simply set.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salon.core.jsonsize import encoded_size
from salon.core.room.errors import invalid
from salon.core.room.outcome import Outcome

if TYPE_CHECKING:
    from salon.core.room.room import Room

ALL = "*"
MAX_NAME_CHARS = 100
MAX_KEY_CHARS = 256
MAX_VALUE_BYTES = 64 * 1024
MAX_KEYS_PER_STORE = 1000
MAX_BYTES_PER_STORE = 1024 * 1024
MAX_STORES = 100
MAX_SESSION_BYTES = 16 * 1024 * 1024
MAX_BULK = 100


def value_size(value: Any, what: str) -> int:
    """Bytes of the value as JSON (`core.jsonsize`), refused past MAX_VALUE_BYTES."""
    try:
        size = encoded_size(value)
    except ValueError as error:
        raise invalid(f"{what} {error}.") from None
    if size > MAX_VALUE_BYTES:
        raise invalid(f"{what} is {size} bytes as JSON; at most {MAX_VALUE_BYTES} are allowed.")
    return size


@dataclass
class Store:
    data: dict[str, Any] = field(default_factory=dict)
    #: Bytes of each entry (key plus JSON value), and their sum.
    sizes: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    #: peer id → followed keys (`*` for every key).
    subscribers: dict[str, set[str]] = field(default_factory=dict)

    def followers(self, changed: list[dict[str, Any]],
                  but: str) -> dict[tuple[int, ...], set[str]]:
        """Subscribers other than `but`, grouped by which of the changes they follow."""
        groups: dict[tuple[int, ...], set[str]] = {}
        for peer_id, keys in self.subscribers.items():
            if peer_id == but:
                continue
            if ALL in keys:
                picked = tuple(range(len(changed)))
            else:
                picked = tuple(i for i, c in enumerate(changed) if c["key"] in keys)
            if picked:
                groups.setdefault(picked, set()).add(peer_id)
        return groups


@dataclass
class StoreSet:
    """Per-session state; a new session starts with a fresh one."""

    stores: dict[str, Store] = field(default_factory=dict)
    bytes: int = 0

    def open(self, name: str) -> Store:
        """The named store, made on first use (at most MAX_STORES per session)."""
        store = self.stores.get(name)
        if store is None:
            if len(self.stores) >= MAX_STORES:
                raise invalid(f"A session has at most {MAX_STORES} stores; this one has "
                              "no room for another.")
            store = self.stores[name] = Store()
        return store

    def tidy(self, name: str) -> None:
        """Forget a store nobody uses: no data and no subscribers."""
        store = self.stores.get(name)
        if store is not None and not store.data and not store.subscribers:
            del self.stores[name]


# --- checks -------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS:
        raise invalid(f"'store' must be a name of 1 to {MAX_NAME_CHARS} characters.")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_CHARS:
        raise invalid(f"A key must be a string of 1 to {MAX_KEY_CHARS} characters.")


# --- writing ------------------------------------------------------------------------------


def _merged(current: Any, value: Any, key: str) -> Any:
    if isinstance(current, dict) and isinstance(value, dict):
        return {**current, **value}
    if isinstance(current, list):
        return current + value if isinstance(value, list) else [*current, value]
    raise invalid(f"'{key}' holds {_json_type(current)}: update merges an object "
                  "into an object or appends to a list; use store.set to replace it.")


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             dict: "an object", list: "an array"}
    return names.get(type(value), "null")


def _write(room: "Room", me: str, name: str, values: dict[str, Any],
           deletions: Iterable[str] = ()) -> Outcome:
    """Apply sets and deletions to one store atomically, after checking every bound."""
    _check_name(name)
    stores = room.stores
    store = stores.stores.get(name)
    sizes: dict[str, int] = {}
    for key, value in values.items():
        _check_key(key)
        sizes[key] = len(key.encode()) + value_size(value, f"The value of '{key}'")
    gone = [key for key in dict.fromkeys(deletions) if store is not None and key in store.data]
    current = store.sizes if store is not None else {}
    delta = (sum(sizes.values()) - sum(current.get(k, 0) for k in sizes)
             - sum(current[k] for k in gone))
    keys_after = len(current) + sum(1 for k in sizes if k not in current) - len(gone)
    if keys_after > MAX_KEYS_PER_STORE:
        raise invalid(f"A store holds at most {MAX_KEYS_PER_STORE} keys; '{name}' would hold "
                      f"{keys_after}.")
    store_bytes = (store.bytes if store is not None else 0) + delta
    if store_bytes > MAX_BYTES_PER_STORE:
        raise invalid(f"A store holds at most {MAX_BYTES_PER_STORE} bytes; '{name}' would "
                      f"hold {store_bytes}.")
    if stores.bytes + delta > MAX_SESSION_BYTES:
        raise invalid(f"The session's stores hold at most {MAX_SESSION_BYTES} bytes in all.")
    changes: list[dict[str, Any]] = []
    if values or gone:
        store = stores.open(name)
        for key, value in values.items():
            store.data[key] = value
            store.sizes[key] = sizes[key]
            changes.append({"key": key, "value": value})
        for key in gone:
            del store.data[key]
            del store.sizes[key]
            changes.append({"key": key, "deleted": True})
        store.bytes += delta
        stores.bytes += delta
        stores.tidy(name)
    out = Outcome(reply={"store": name, "changes": changes})
    if changes and store is not None:
        _prune(room, store)
        for picked, peers in store.followers(changes, but=me).items():
            out.send("store.changed", {"store": name, "changes": [changes[i] for i in picked],
                                       "by_peer_id": me}, peers)
    return out


def _prune(room: "Room", store: Store) -> None:
    """Drop subscriptions of peers that left the room (a dropped peer keeps its own)."""
    for peer_id in [p for p in store.subscribers if p not in room.peers]:
        del store.subscribers[peer_id]


def set_value(room: "Room", me: str, name: str, key: str, value: Any) -> Outcome:
    room.actor(me)
    return _write(room, me, name, {key: value})


def bulk_set(room: "Room", me: str, name: str, items: dict[str, Any]) -> Outcome:
    room.actor(me)
    if not isinstance(items, dict) or not 1 <= len(items) <= MAX_BULK:
        raise invalid(f"'items' must be an object of 1 to {MAX_BULK} keys and values.")
    return _write(room, me, name, items)


def update_value(room: "Room", me: str, name: str, key: str, value: Any) -> Outcome:
    room.actor(me)
    _check_name(name)
    _check_key(key)
    store = room.stores.stores.get(name)
    if store is not None and key in store.data:
        value = _merged(store.data[key], value, key)
    return _write(room, me, name, {key: value})


def delete(room: "Room", me: str, name: str, keys: list[str]) -> Outcome:
    room.actor(me)
    if not 1 <= len(keys) <= MAX_BULK:
        raise invalid(f"Name 1 to {MAX_BULK} keys to delete.")
    for key in keys:
        _check_key(key)
    return _write(room, me, name, {}, keys)


# --- reading ------------------------------------------------------------------------------


def get(room: "Room", me: str, name: str, key: str) -> Outcome:
    room.actor(me)
    _check_name(name)
    _check_key(key)
    store = room.stores.stores.get(name)
    found = store is not None and key in store.data
    return Outcome(reply={"store": name, "key": key, "found": found,
                          "value": store.data[key] if found else None})  # type: ignore[union-attr]


def get_all(room: "Room", me: str, name: str) -> Outcome:
    room.actor(me)
    _check_name(name)
    store = room.stores.stores.get(name)
    return Outcome(reply={"store": name, "items": dict(store.data) if store else {}})


def subscribe(room: "Room", me: str, name: str, keys: list[str] | None) -> Outcome:
    """Follow some keys (or `*`, the default: every key); answers their current values."""
    room.actor(me)
    _check_name(name)
    wanted = [ALL] if keys is None else list(dict.fromkeys(keys))
    if not wanted:
        raise invalid("Name at least one key to follow, or '*' for every key.")
    for key in wanted:
        _check_key(key)
    store = room.stores.stores.get(name)
    followed = (store.subscribers.get(me, set()) if store else set()) | set(wanted)
    if len(followed) > MAX_KEYS_PER_STORE:
        raise invalid(f"A peer follows at most {MAX_KEYS_PER_STORE} keys of a store.")
    store = room.stores.open(name)
    _prune(room, store)
    store.subscribers[me] = followed
    items = (dict(store.data) if ALL in followed
             else {k: v for k, v in store.data.items() if k in followed})
    return Outcome(reply={"store": name, "keys": sorted(followed), "items": items})


def unsubscribe(room: "Room", me: str, name: str, keys: list[str] | None) -> Outcome:
    """Stop following some keys (`*` is the every-key subscription), or everything."""
    room.actor(me)
    _check_name(name)
    store = room.stores.stores.get(name)
    followed = store.subscribers.get(me, set()) if store else set()
    if keys is not None:
        followed = followed - set(keys)
    else:
        followed = set()
    if store is not None:
        if followed:
            store.subscribers[me] = followed
        else:
            store.subscribers.pop(me, None)
        room.stores.tidy(name)
    return Outcome(reply={"store": name, "keys": sorted(followed)})
