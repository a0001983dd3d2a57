"""Polls of the session (reference §6.2)."""

from dataclasses import dataclass


@dataclass
class PollBook:
    """Per-session state; a new session starts with a fresh one."""
