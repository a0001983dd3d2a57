"""Base classes and shared field types for the wire schemas salon validates.

Request bodies refuse unknown fields, so a misspelt field is a 400 that names it instead
of a setting silently ignored.

Every string a client sends is typed with `text(…)`: no NUL character, which PostgreSQL
cannot store in text or JSON (SQLite would keep it, so the two would differ), and for
names, ids and labels no control character at all. Datetimes are `UtcDatetime`.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
)

from salon.core.jsonsize import storable_problem

#: Booleans must be JSON booleans: `"yes"` or `1` is a 400, not a silent `true`.
Flag = StrictBool

#: C0 and C1 control characters (Unicode category Cc), NUL among them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: Unicode's bidirectional controls (embeddings, overrides, isolates, marks): they reorder
#: the text around them, so `invoice\u202egpj.exe` shows as `invoiceexe.jpg`.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters (\\u0000)")
    return value


def _no_controls(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters (NUL, tab, newline, …)")
    return value


def text(max_length: int | None = None, *, min_length: int | None = None,
         pattern: str | None = None, name: bool = False) -> Any:
    """The type of a string a client sends: bounded like `Field`, and never a NUL.

    `name=True` is for names, ids and labels: one line of printable characters, no
    control character at all. (Bounds first, then the character rule, so a too-long
    value reads "String should have at most N characters".)
    """
    bounds = Field(min_length=min_length, max_length=max_length, pattern=pattern)
    return Annotated[str, bounds, AfterValidator(_no_controls if name else _no_nul)]


_URL = TypeAdapter(AnyHttpUrl)


def _http_url(value: str) -> str:
    """Parsed as a browser would (WHATWG, pydantic) and as delivery will (httpx)."""
    try:
        parsed = _URL.validate_python(value)
        httpx.URL(value)
    except (ValidationError, httpx.InvalidURL):
        raise ValueError("must be a valid http or https URL: a host, a port of 1-65535 "
                         "if any, brackets around an IPv6 address") from None
    if parsed.port == 0:
        raise ValueError("must not name port 0")
    return value


#: An http(s) URL salon calls or hands out (webhook targets, plugin pages and icons),
#: stored as written: well-formed, no whitespace, at most 2048 characters.
HttpUrl = Annotated[text(2048, pattern=r"^https?://[^\s/?#]+\S*$"), AfterValidator(_http_url)]


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the year 1 in UTC
        raise ValueError("is out of range once converted to UTC") from None


#: A moment a client names (a filter, a history bound): read as UTC when it has no zone,
#: converted to UTC when it has one, refused when that leaves the years 1–9999.
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    problem = storable_problem(value)
    if problem is not None:
        raise ValueError(f"Value {problem}")
    return value


#: Free-form JSON kept as given (`ui.config_diff`): at most `jsonsize.MAX_DEPTH` levels
#: deep, so it can always be sent back; no NUL characters or non-finite numbers, which
#: PostgreSQL cannot store.
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable)]


class Strict(BaseModel):
    """A schema object that refuses unknown fields and fills defaults for missing ones."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict:
        """The JSON-ready dict, with aliases (`"500"` for a colour shade) as on the wire."""
        return self.model_dump(mode="json", by_alias=True)
