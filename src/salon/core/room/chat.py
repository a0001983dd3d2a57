"""Chat messages of the session (reference §6.1): what is in memory for fan-out; the database keeps the history."""

from dataclasses import dataclass


@dataclass
class ChatBoard:
    """Per-session state; a new session starts with a fresh one."""
