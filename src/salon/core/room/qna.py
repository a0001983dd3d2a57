"""Questions and answers of the session (a salon addition)."""

from dataclasses import dataclass


@dataclass
class QuestionBoard:
    """Per-session state; a new session starts with a fresh one."""
