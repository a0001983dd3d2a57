"""Errors a room command answers with; `code` is part of the realtime protocol."""


class RoomError(Exception):
    """A refused command. Nothing in the room changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def forbidden(what: str, permission: str) -> RoomError:
    return RoomError("FORBIDDEN", f"You may not {what}: your preset lacks '{permission}'.")


def invalid(message: str) -> RoomError:
    return RoomError("INVALID", message)


def not_found(message: str) -> RoomError:
    return RoomError("NOT_FOUND", message)
