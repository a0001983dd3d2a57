"""Every request a joined peer can make, by name, gathered from one module per feature."""

from salon.realtime.commands import (
    captions,
    chat,
    connected,
    livestreams,
    media,
    plugins,
    polls,
    presence,
    qna,
    recordings,
    social,
    stores,
)
from salon.realtime.commands.base import AsyncCommand, Command, Context, Limit

COMMANDS: dict[str, Command | AsyncCommand] = {}
for module in (presence, chat, polls, qna, plugins, stores, media, connected, recordings,
               captions, social, livestreams):
    clash = COMMANDS.keys() & module.COMMANDS.keys()
    assert not clash, f"commands defined twice: {clash}"
    COMMANDS.update(module.COMMANDS)

__all__ = ["COMMANDS", "AsyncCommand", "Command", "Context", "Limit"]
