"""Building blocks of the message types: closed objects, timestamps, JSON values.

Every object the server builds itself is *closed* (`extra="forbid"`, which becomes
`additionalProperties: false` in the schema): a field the server starts sending without
saying so here fails the test suite, which validates every message it sees.
"""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, WithJsonSchema, with_config

#: Decorates a TypedDict whose keys are all known: the schema refuses any other key.
closed = with_config(ConfigDict(extra="forbid"))

#: A moment on the wire: ISO-8601 / RFC 3339. Kept to `format: date-time` rather than one
#: exact spelling, so `…541Z` and `…541387+00:00` both validate.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]

#: Any JSON value a client chose (payloads, store values, plugin state).
Json = Any

MediaKind = Literal["audio", "video", "screenshare"]
StageStatus = Literal["OFF_STAGE", "REQUESTED_TO_JOIN_STAGE", "ACCEPTED_TO_JOIN_STAGE",
                      "ON_STAGE"]
PcRole = Literal["publish", "subscribe"]
