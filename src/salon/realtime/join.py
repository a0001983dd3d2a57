"""The `join` request: the first message on a connection (docs/protocol.md "Connecting")."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from salon.core.names import display_name
from salon.core.schema import Flag, Strict, text
from salon.realtime import protocol


class Resume(Strict):
    peer_id: text(64, min_length=1, name=True)
    resume_token: text(128, min_length=1, name=True)


class InitialMedia(Strict):
    audio: Flag = False
    video: Flag = False
    #: Picks the preset's `config.max_video_streams.desktop` or `.mobile`.
    device: Literal["desktop", "mobile"] = "desktop"


class Join(Strict):
    token: text(4096, min_length=1, name=True)
    #: Any value but the integer 1 (`"1"`, `true`, `1.0`, 2) is refused with
    #: PROTOCOL_VERSION by the gateway, not as INVALID here.
    protocol: Annotated[Any, Field(json_schema_extra={"type": "integer"})] = \
        protocol.PROTOCOL_VERSION
    #: The rule of `self.rename`: trimmed, 1–255 characters, no control characters.
    name: Annotated[str, AfterValidator(display_name)] | None = None
    media: InitialMedia = InitialMedia()
    resume: Resume | None = None
    #: Join only this session: a bot that comes for one session (the transcriber) must
    #: never start the next one by arriving late.
    session_id: text(64, min_length=1, name=True) | None = None
