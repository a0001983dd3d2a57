"""Plugins active in the session and their shared state (reference §6.3).

A plugin comes from the app's registry (checked by the caller before `activate`) and is
activated for everyone in the session. Who may do what:

- activate: `plugins.can_start`;
- deactivate: `plugins.can_close`, or being the participant who activated it;
- send plugin messages and write plugin state: FULL_ACCESS for that plugin, from the
  preset's `plugins.config[<plugin id>].access_control` (FULL_ACCESS when absent);
  VIEW_ONLY peers receive messages and read state but do not send or write.

Messages and state exist only while the plugin is active: deactivating clears its state,
and a new session starts with nothing active.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from salon.core.clock import isoformat
from salon.core.presets import PluginAccess
from salon.core.room.errors import RoomError, forbidden, invalid
from salon.core.room.outcome import Outcome
from salon.core.room.peer import Peer
from salon.core.room.stores import value_size

if TYPE_CHECKING:
    from salon.core.room.room import Room

MAX_ACTIVE = 20
MAX_STATE_KEY_CHARS = 256
MAX_STATE_KEYS = 1000
MAX_STATE_BYTES = 1024 * 1024

FULL_ACCESS = "FULL_ACCESS"
_DEFAULT_ACCESS = PluginAccess()


@dataclass
class ActivePlugin:
    #: The registry entry as it was at activation (`id`, `name`, `url`, `icon`, …).
    plugin: dict[str, Any]
    activated_by: str
    activated_by_participant: str
    activated_at: datetime
    state: dict[str, Any] = field(default_factory=dict)
    state_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.plugin["id"]

    def view(self) -> dict[str, Any]:
        return {**self.plugin, "active": True, "activated_by": self.activated_by,
                "activated_at": isoformat(self.activated_at)}


@dataclass
class PluginBoard:
    """Per-session state; a new session starts with a fresh one."""

    active: dict[str, ActivePlugin] = field(default_factory=dict)

    def views_for(self, viewer: Peer) -> list[dict[str, Any]]:
        """Active plugins, each with the viewer's own access to it."""
        return [{**a.view(), "access": access(viewer, a.id).wire()} for a in self.active.values()]


def access(peer: Peer, plugin_id: str) -> PluginAccess:
    return peer.permissions.plugins.config.get(plugin_id, _DEFAULT_ACCESS)


def _active(room: "Room", plugin_id: str) -> ActivePlugin:
    found = room.plugins.active.get(plugin_id)
    if found is None:
        raise RoomError("CONFLICT", f"Plugin {plugin_id} is not active in this session; "
                                    "activate it first (plugin.activate).")
    return found


def _full_access(peer: Peer, plugin_id: str, what: str) -> None:
    if access(peer, plugin_id).access_control != FULL_ACCESS:
        raise RoomError("FORBIDDEN", f"You may not {what}: your access to plugin {plugin_id} "
                                     "is VIEW_ONLY (plugins.config.<id>.access_control).")


def check_can_start(room: "Room", me: str) -> Peer:
    """Checked before the registry is read, and again when the plugin is activated."""
    peer = room.actor(me)
    if not peer.permissions.plugins.can_start:
        raise forbidden("activate plugins", "plugins.can_start")
    return peer


# --- commands -----------------------------------------------------------------------------


def listing(room: "Room", me: str, registry: list[dict[str, Any]]) -> Outcome:
    """The app's registry as `me` sees it: each plugin with whether it is active, by whom."""
    peer = room.actor(me)
    listed = []
    for plugin in registry:
        active = room.plugins.active.get(plugin["id"])
        entry = {**plugin, "active": active is not None,
                 "activated_by": active.activated_by if active else None,
                 "activated_at": isoformat(active.activated_at) if active else None}
        listed.append({**entry, "access": access(peer, plugin["id"]).wire()})
    known = {plugin["id"] for plugin in registry}
    listed += [item for item in room.plugins.views_for(peer) if item["id"] not in known]
    return Outcome(reply={"plugins": listed,
                          "active": [a.id for a in room.plugins.active.values()]})


def activate(room: "Room", me: str, plugin: dict[str, Any], now: datetime) -> Outcome:
    """Activate a registry plugin for everyone in the session."""
    peer = check_can_start(room, me)
    plugin_id = plugin["id"]
    current = room.plugins.active.get(plugin_id)
    if current is not None:
        raise RoomError("CONFLICT", f"Plugin {plugin_id} is already active (activated by "
                                    f"peer {current.activated_by}).")
    if len(room.plugins.active) >= MAX_ACTIVE:
        raise RoomError("CONFLICT", f"At most {MAX_ACTIVE} plugins can be active at once; "
                                    "deactivate one first.")
    active = ActivePlugin(plugin=plugin, activated_by=peer.peer_id,
                          activated_by_participant=peer.participant_id, activated_at=now)
    room.plugins.active[plugin_id] = active
    out = Outcome(reply={"plugin": {**active.view(), "access": access(peer, plugin_id).wire()}})
    out.send("plugin.activated", {"plugin": active.view(), "by_peer_id": peer.peer_id},
             room.everyone())
    return out


def deactivate(room: "Room", by: str | None, plugin_id: str, reason: str = "closed") -> Outcome:
    """Close a plugin for everyone; `by` None is the operator (the registry entry went).
    Who asks is checked before whether the plugin is active: without `can_close`, a
    plugin nobody of yours activated is FORBIDDEN whether it is active or not."""
    if by is not None:
        peer = room.actor(by)
        current = room.plugins.active.get(plugin_id)
        if (not peer.permissions.plugins.can_close
                and (current is None
                     or peer.participant_id != current.activated_by_participant)):
            raise forbidden("close a plugin someone else activated", "plugins.can_close")
    _active(room, plugin_id)
    del room.plugins.active[plugin_id]
    out = Outcome(reply={"plugin_id": plugin_id, "active": False})
    out.send("plugin.deactivated", {"plugin_id": plugin_id, "by_peer_id": by,
                                    "reason": reason}, room.everyone())
    return out


def message(room: "Room", me: str, plugin_id: str, payload: Any, to: list[str] | None,
            now: datetime) -> Outcome:
    """Relay a plugin's message to everyone else in the session, or to the peers `to`."""
    peer = room.actor(me)
    _full_access(peer, plugin_id, "send messages to this plugin")
    _active(room, plugin_id)
    if to is None:
        recipients = room.everyone(but=me)
    else:
        recipients = {p.peer_id for p in room.targets(to)} - {me}
    out = Outcome(reply={"delivered_to": len(recipients)})
    out.send("plugin.message", {"plugin_id": plugin_id, "payload": payload,
                                "from_peer_id": me, "timestamp": isoformat(now)}, recipients)
    return out


def set_state(room: "Room", me: str, plugin_id: str, key: str, value: Any) -> Outcome:
    """Set one key of the plugin's shared state (`None` removes it); others get `plugin.state`."""
    peer = room.actor(me)
    _full_access(peer, plugin_id, "change this plugin's state")
    active = _active(room, plugin_id)
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_STATE_KEY_CHARS:
        raise invalid(f"'key' must be a string of 1 to {MAX_STATE_KEY_CHARS} characters.")
    sizes = active.state_sizes
    if value is None:
        active.state.pop(key, None)
        sizes.pop(key, None)
    else:
        size = len(key.encode()) + value_size(value, f"The value of '{key}'")
        if key not in sizes and len(sizes) >= MAX_STATE_KEYS:
            raise invalid(f"A plugin's state holds at most {MAX_STATE_KEYS} keys.")
        total = sum(sizes.values()) - sizes.get(key, 0) + size
        if total > MAX_STATE_BYTES:
            raise invalid(f"A plugin's state holds at most {MAX_STATE_BYTES} bytes; "
                          f"this would make {total}.")
        active.state[key] = value
        sizes[key] = size
    out = Outcome(reply={"plugin_id": plugin_id, "key": key, "value": value})
    out.send("plugin.state", {"plugin_id": plugin_id, "key": key, "value": value,
                              "by_peer_id": me}, room.everyone(but=me))
    return out


def get_state(room: "Room", me: str, plugin_id: str, key: str | None) -> Outcome:
    room.actor(me)
    active = _active(room, plugin_id)
    if key is None:
        return Outcome(reply={"plugin_id": plugin_id, "state": dict(active.state)})
    return Outcome(reply={"plugin_id": plugin_id, "key": key,
                          "value": active.state.get(key)})
