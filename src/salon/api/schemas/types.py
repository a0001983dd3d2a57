"""Field types shared by the response shapes."""

from typing import Annotated

from pydantic import ConfigDict, WithJsonSchema

#: Closed objects: the document says `additionalProperties: false`.
CLOSED = ConfigDict(extra="forbid")

#: Rendered by `salon.core.clock.isoformat`: `2026-01-01T10:00:00.541Z`.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
