"""What a realtime command is: validated parameters, then a change to the room.

A `Command` is synchronous: it returns the room command to run, and the room applies it
in order with every other. An `AsyncCommand` first does I/O (persist a chat message,
read history) and then returns the room command that publishes the result — or a plain
reply when the room does not change. Either way the reply reaches the caller before the
events its request caused.
"""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import State

from salon.core.errors import Conflict, Forbidden, InvalidRequest, NotFound, SalonError
from salon.core.ratelimit import Limit
from salon.core.room import Outcome, RoomError
from salon.core.schema import Strict
from salon.live.host import RoomHost

RoomCommand = Callable[[], Outcome]


class NoParams(Strict):
    """The parameters of a request that takes none (`data` empty or left out)."""


@dataclass(frozen=True)
class Context:
    """What an async command may use: the room, the caller, and the server's resources
    (`state.database`, `state.settings`, …, as set up in `salon.api.app`)."""

    host: RoomHost
    peer_id: str
    state: State


@dataclass(frozen=True)
class Command:
    params: type[Strict]
    run: Callable[[RoomHost, str, Any], RoomCommand]
    #: Every request type has a budget (docs/protocol.md "Budgets"): each fans out or
    #: costs the server something, and one peer must not be able to flood a room.
    limit: Limit


@dataclass(frozen=True)
class AsyncCommand:
    params: type[Strict]
    run: Callable[[Context, Any], Awaitable[RoomCommand | dict[str, Any]]]
    limit: Limit


_CODES = {NotFound: "NOT_FOUND", Forbidden: "FORBIDDEN", InvalidRequest: "INVALID",
          Conflict: "CONFLICT"}


@contextmanager
def as_room_errors() -> Iterator[None]:
    """Service errors answer like room errors: NOT_FOUND, INVALID, … (async commands
    that call services: chat, recordings)."""
    try:
        yield
    except SalonError as error:
        raise RoomError(_CODES.get(type(error), "INVALID"), error.message) from None
