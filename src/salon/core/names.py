"""Display names: the one rule for what a peer is called in a session.

Used by the realtime gateway for the join `name` and by the `self.rename` parameters;
`Room.rename` applies the same trim and bounds.
"""

from salon.core.schema import CONTROL_CHARACTERS

MAX_DISPLAY_NAME_CHARS = 255


def display_name(value: str) -> str:
    """The name trimmed; ValueError unless 1–255 characters with no control characters."""
    name = value.strip()
    if not name or len(name) > MAX_DISPLAY_NAME_CHARS:
        raise ValueError(f"A display name must be 1 to {MAX_DISPLAY_NAME_CHARS} characters.")
    if CONTROL_CHARACTERS.search(name):
        raise ValueError("A display name must not contain control characters "
                         "(NUL, tab, newline, …).")
    return name
