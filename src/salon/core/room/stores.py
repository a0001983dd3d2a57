"""Collaborative key/value stores of the session (reference §6.5); gone when it ends."""

from dataclasses import dataclass


@dataclass
class StoreSet:
    """Per-session state; a new session starts with a fresh one."""
