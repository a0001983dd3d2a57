"""Errors a room command answers with; `code` is part of the realtime protocol."""


class RoomError(Exception):
    """A refused command. Nothing in the room changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def forbidden(what: str, permission: str) -> RoomError:
    return RoomError("FORBIDDEN", f"You may not {what}: your preset lacks '{permission}'.")


def bots_only(what: str) -> RoomError:
    """Refused to anyone but salon's own bots (`Peer.is_bot`): two conditions, so the
    message names both rather than a permission the peer may well have."""
    return RoomError("FORBIDDEN", f"You may not {what}: only a hidden participant whose "
                                  "preset has 'is_recorder' (salon's own recorder or "
                                  "transcriber) may.")


def invalid(message: str) -> RoomError:
    return RoomError("INVALID", message)


def not_found(message: str) -> RoomError:
    return RoomError("NOT_FOUND", message)
