"""Realtime commands of the plugins feature (see docs/protocol.md, docs/plugins-and-stores.md).

`plugin.list` and `plugin.activate` read the app's registry first (async), then run on the
room; everything else is a plain room command. The rules live in `salon.core.room.plugins`.
"""

from typing import Annotated, Any

from pydantic import Field

from salon.core.clock import utcnow
from salon.core.ratelimit import Limit
from salon.core.room import RoomError, plugins
from salon.core.schema import Strict, text
from salon.realtime.commands.base import AsyncCommand, Command, Context, NoParams, RoomCommand
from salon.services import plugins as registry

PluginId = text(64, min_length=1, name=True)
PeerIds = Annotated[list[text(64, min_length=1, name=True)], Field(min_length=1, max_length=1000)]
StateKey = text(plugins.MAX_STATE_KEY_CHARS, min_length=1)

#: Registry reads and activation toggles, which every peer of the session hears about.
CONTROL = Limit("plugin_control", 10, 1)
#: Messages and state writes: a plugin's traffic, fanned out to the session.
TRAFFIC = Limit("plugin_messages", 30, 1)
READS = Limit("plugin_reads", 20, 1)


class PluginRef(Strict):
    plugin_id: PluginId


class PluginMessage(Strict):
    plugin_id: PluginId
    payload: Any = None
    to: PeerIds | None = None


class StateSet(Strict):
    plugin_id: PluginId
    key: StateKey
    value: Any


class StateGet(Strict):
    plugin_id: PluginId
    key: StateKey | None = None


async def _list(ctx: Context, _: NoParams) -> RoomCommand:
    ctx.host.room.actor(ctx.peer_id)
    async with ctx.state.database.session() as db:
        views = [registry.view(row) for row in await registry.list_all(db, ctx.host.app_id)]
    return lambda: plugins.listing(ctx.host.room, ctx.peer_id, views)


async def _activate(ctx: Context, p: PluginRef) -> RoomCommand:
    plugins.check_can_start(ctx.host.room, ctx.peer_id)  # no registry read for a denial
    async with ctx.state.database.session() as db:
        row = await registry.find(db, ctx.host.app_id, p.plugin_id)
        view = registry.view(row) if row is not None else None
    if view is None:
        raise RoomError("NOT_FOUND", f"No plugin {p.plugin_id} in this app's registry.")
    return lambda: plugins.activate(ctx.host.room, ctx.peer_id, view, utcnow())


COMMANDS: dict[str, Command | AsyncCommand] = {
    "plugin.list": AsyncCommand(NoParams, _list, limit=CONTROL),
    "plugin.activate": AsyncCommand(PluginRef, _activate, limit=CONTROL),
    "plugin.deactivate": Command(PluginRef, lambda h, me, p: lambda: plugins.deactivate(
        h.room, me, p.plugin_id), limit=CONTROL),
    "plugin.message": Command(PluginMessage, lambda h, me, p: lambda: plugins.message(
        h.room, me, p.plugin_id, p.payload, p.to, utcnow()), limit=TRAFFIC),
    "plugin.state.set": Command(StateSet, lambda h, me, p: lambda: plugins.set_state(
        h.room, me, p.plugin_id, p.key, p.value), limit=TRAFFIC),
    "plugin.state.get": Command(StateGet, lambda h, me, p: lambda: plugins.get_state(
        h.room, me, p.plugin_id, p.key), limit=READS),
}
