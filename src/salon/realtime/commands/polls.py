"""Realtime commands of the polls feature (see docs/protocol.md)."""

from salon.realtime.commands.base import AsyncCommand, Command

COMMANDS: dict[str, Command | AsyncCommand] = {}
