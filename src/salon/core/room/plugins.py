"""Plugins active in the session and their shared state (reference §6.3)."""

from dataclasses import dataclass


@dataclass
class PluginBoard:
    """Per-session state; a new session starts with a fresh one."""
