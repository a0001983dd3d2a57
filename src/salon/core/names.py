"""Names people give things: what a peer is called in a session, and an API token's
label.

`display_name` is used by the realtime gateway for the join `name` and by the
`self.rename` parameters; `Room.rename` applies the same trim and bounds. `token_name`
is the REST route's rule (`POST /api_tokens`) and the CLI's (`salon tokens create`).
"""

from salon.core.errors import InvalidRequest
from salon.core.schema import CONTROL_CHARACTERS

MAX_DISPLAY_NAME_CHARS = 255
MAX_TOKEN_NAME_CHARS = 255


def display_name(value: str) -> str:
    """The name trimmed; ValueError unless 1–255 characters with no control characters."""
    name = value.strip()
    if not name or len(name) > MAX_DISPLAY_NAME_CHARS:
        raise ValueError(f"A display name must be 1 to {MAX_DISPLAY_NAME_CHARS} characters.")
    if CONTROL_CHARACTERS.search(name):
        raise ValueError("A display name must not contain control characters "
                         "(NUL, tab, newline, …).")
    return name


def token_name(value: str) -> str:
    """An API token's label, trimmed; InvalidRequest unless 1–255 characters (as sent)
    with no control characters."""
    if len(value) > MAX_TOKEN_NAME_CHARS or not value.strip():
        raise InvalidRequest(f"Token name must be 1 to {MAX_TOKEN_NAME_CHARS} characters.")
    if CONTROL_CHARACTERS.search(value):
        raise InvalidRequest("Token name must not contain control characters "
                             "(NUL, tab, newline, …).")
    return value.strip()
