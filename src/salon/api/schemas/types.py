"""Field types shared by the response shapes: the realtime messages' own, so that a
timestamp or a closed object means the same in both documents."""

from pydantic import ConfigDict

from salon.realtime.messages.base import Timestamp

#: Closed objects: the document says `additionalProperties: false`.
CLOSED = ConfigDict(extra="forbid")

__all__ = ["CLOSED", "Timestamp"]
