"""Plugins and stores: replies and events (docs/protocol.md "Plugins", "Stores")."""

from typing import Any, Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import Json, Timestamp, closed
from salon.realtime.messages.presence import Delivered
from salon.realtime.messages.views import PluginForPeer, PluginView


@closed
class Plugins(TypedDict):
    plugins: list[PluginForPeer]
    active: list[str]


@closed
class PluginReply(TypedDict):
    plugin: PluginForPeer


@closed
class PluginClosed(TypedDict):
    plugin_id: str
    active: Literal[False]


@closed
class StateEntry(TypedDict):
    plugin_id: str
    key: str
    value: Json


@closed
class WholeState(TypedDict):
    plugin_id: str
    state: dict[str, Json]


@closed
class PluginActivated(TypedDict):
    plugin: PluginView
    by_peer_id: str


@closed
class PluginDeactivated(TypedDict):
    plugin_id: str
    #: null when the operator deleted it from the registry.
    by_peer_id: str | None
    reason: Literal["closed", "deleted"]


@closed
class PluginMessageEvent(TypedDict):
    plugin_id: str
    payload: Json
    from_peer_id: str
    timestamp: Timestamp


@closed
class PluginState(StateEntry):
    by_peer_id: str


# --- stores -------------------------------------------------------------------------------


@closed
class Set(TypedDict):
    key: str
    value: Json


@closed
class Removed(TypedDict):
    key: str
    deleted: Literal[True]


Change = Set | Removed


@closed
class Changes(TypedDict):
    store: str
    changes: list[Change]


@closed
class Value(TypedDict):
    store: str
    key: str
    found: bool
    value: Json


@closed
class Items(TypedDict):
    store: str
    items: dict[str, Json]


@closed
class Followed(TypedDict):
    store: str
    keys: list[str]


@closed
class Subscribed(Followed):
    items: dict[str, Json]


@closed
class StoreChanged(Changes):
    by_peer_id: str


REPLIES: dict[str, Any] = {
    "plugin.list": Plugins,
    "plugin.activate": PluginReply,
    "plugin.deactivate": PluginClosed,
    "plugin.message": Delivered,
    "plugin.state.set": StateEntry,
    "plugin.state.get": WholeState | StateEntry,
    "store.set": Changes,
    "store.update": Changes,
    "store.delete": Changes,
    "store.bulk_set": Changes,
    "store.bulk_delete": Changes,
    "store.get": Value,
    "store.get_all": Items,
    "store.subscribe": Subscribed,
    "store.unsubscribe": Followed,
}

EVENTS: dict[str, Any] = {
    "plugin.activated": PluginActivated,
    "plugin.deactivated": PluginDeactivated,
    "plugin.message": PluginMessageEvent,
    "plugin.state": PluginState,
    "store.changed": StoreChanged,
}
