"""Base classes and shared field types for the wire schemas salon validates.

Request bodies refuse unknown fields, so a misspelt field is a 400 that names it instead
of a setting silently ignored.

Every string a client sends is typed with `text(…)`: no NUL character, which PostgreSQL
cannot store in text or JSON (SQLite would keep it, so the two would differ), and for
names, ids and labels no control character at all. Datetimes are `UtcDatetime`.
"""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
)

from salon.core.jsonsize import storable_problem

#: Booleans must be JSON booleans: `"yes"` or `1` is a 400, not a silent `true`.
Flag = StrictBool

def _a_number(value: Any) -> Any:
    """JSON numbers only: pydantic would also read `"5"` or `true` as one, which the
    OpenAPI document (`type: integer` / `number`) does not allow."""
    if isinstance(value, str | bytes | bool):
        raise ValueError("must be a number, not a string or a boolean")
    return value


#: An integer or a number in a request body: as pydantic's, but never from a string or
#: a boolean. (`5.0` is an integer, as in JSON Schema.)
Int = Annotated[int, BeforeValidator(_a_number)]
Number = Annotated[float, BeforeValidator(_a_number)]

#: C0 and C1 control characters (Unicode category Cc), NUL among them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: The same rules as JSON Schema patterns (ECMA-262 syntax).
NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
TEXT_PATTERN = r"^[^\u0000]*$"

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
    # The character rule goes into the JSON Schema as a pattern (a lookahead beside an
    # explicit `pattern`), so that the OpenAPI document, and a client generated from it,
    # says what is refused. Validation keeps the two checks apart, for their messages.
    rule = NAME_PATTERN if name else TEXT_PATTERN
    documented = {"pattern": f"(?={rule}){pattern}" if pattern else rule}
    bounds = Field(min_length=min_length, max_length=max_length, pattern=pattern,
                   json_schema_extra=documented)
    return Annotated[str, bounds, AfterValidator(_no_controls if name else _no_nul)]


_URL = TypeAdapter(AnyHttpUrl)
#: What is wrong with a URL that is not one (the pattern's failures say the same).
URL_PROBLEM = ("must be a valid http or https URL: a host, a port of 1-65535 if any, "
               "brackets around an IPv6 address")


def _http_url(value: str) -> str:
    """Parsed as a browser would (WHATWG, pydantic) and as delivery will (httpx)."""
    try:
        parsed = _URL.validate_python(value)
        httpx.URL(value)
    except (ValidationError, httpx.InvalidURL):
        raise ValueError(URL_PROBLEM) from None
    if parsed.port == 0:
        raise ValueError("must not name port 0")
    return value


_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H16 = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join([
    f"(?:{_H16}:){{7}}{_H16}", f"(?:{_H16}:){{1,7}}:", f"(?:{_H16}:){{1,6}}:{_H16}",
    *(f"(?:{_H16}:){{1,{5 - i}}}(?::{_H16}){{1,{i + 2}}}" for i in range(5)),
    f":(?:(?::{_H16}){{1,7}}|:)"])
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: A host name whose last label starts with a letter (an all-digit one would be read as
#: an IPv4 address), a dotted IPv4 address, or an IPv6 address in brackets.
_HOST = rf"(?:(?:{_LABEL}\.)*[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?|{_IPV4}|\[(?:{_IPV6})\])"
_PORT = r"(?::(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}))?"
#: Printable ASCII but space, and any character past Latin-1's controls and no-break space.
_REST = r"(?:[/?#][!-~\u00a1-\uffff]*)?"
HTTP_URL_PATTERN = rf"^https?://{_HOST}{_PORT}{_REST}$"


def is_host(text: str) -> bool:
    """A host `HttpUrl` takes: a host name (a non-ASCII one as IDNA writes it, an `xn--`
    label only if it decodes), a dotted IPv4 address, or an IPv6 address in brackets."""
    try:
        written = text.encode("idna").decode("ascii")
        written.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return re.fullmatch(_HOST, written) is not None


def url_host(hostname: str) -> str:
    """`urlsplit(...).hostname` as a URL writes it (an IPv6 address in brackets)."""
    return f"[{hostname}]" if ":" in hostname else hostname


def is_rtmp_url(text: str) -> bool:
    """An rtmp:// or rtmps:// URL with a host (`is_host`) and no whitespace."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises for a port that is not one
    except ValueError:
        return False
    return (parts.scheme.lower() in ("rtmp", "rtmps") and bool(parts.hostname)
            and is_host(url_host(parts.hostname)) and not any(c.isspace() for c in text))

#: An http(s) URL salon calls or hands out (webhook targets, plugin pages and icons),
#: stored as written: well-formed, no whitespace, at most 2048 characters. The pattern
#: (in the OpenAPI document too) is the shape; the validator parses it as a browser
#: (WHATWG) and as httpx would.
HttpUrl = Annotated[text(2048, pattern=HTTP_URL_PATTERN), AfterValidator(_http_url)]


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the year 1 in UTC
        raise ValueError("is out of range once converted to UTC") from None


def _iso_text(kind: str, shape: re.Pattern[str]) -> Any:
    """Only ISO 8601 text: pydantic would also read `0.5` or `0` as a Unix time, which
    the document (`format: date-time` / `date`) does not allow."""
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not shape.match(value):
            raise ValueError(f"must be an ISO 8601 {kind} such as "
                             f"{'2026-01-31T09:30:00Z' if kind == 'date-time' else '2026-01-31'}")
        return value
    return BeforeValidator(check)


#: A moment a client names (a filter, a history bound), as ISO 8601 text: read as UTC
#: when it has no zone, converted to UTC when it has one, refused when that leaves the
#: years 1–9999.
UtcDatetime = Annotated[datetime, _iso_text("date-time", re.compile(r"^\d{4}-\d\d-\d\d[T ]")),
                        AfterValidator(_as_utc)]
#: A day (`2026-01-31`), as ISO 8601 text, between 1970 and 9999 (daywise analytics).
IsoDate = Annotated[date, _iso_text("date", re.compile(r"^\d{4}-\d\d-\d\d$")),
                    Field(json_schema_extra={"pattern": r"^(19[7-9]\d|[2-9]\d{3})-\d\d-\d\d$"})]


def one_of_lists(*names: str) -> dict[str, Any]:
    """`json_schema_extra` for a body that needs at least one of these lists non-empty
    (checked by a model validator), so that the document says so too."""
    return {"anyOf": [{"required": [name], "properties": {name: {"minItems": 1}}}
                      for name in names]}


def _storable(value: Any) -> Any:
    problem = storable_problem(value)
    if problem is not None:
        raise ValueError(f"Value {problem}")
    return value


#: Free-form JSON kept as given (`ui.config_diff`): at most `jsonsize.MAX_DEPTH` levels
#: deep, so it can always be sent back; no NUL characters or non-finite numbers, which
#: PostgreSQL cannot store.
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable)]
#: Any JSON value under the same rules (a broadcast's `payload`).
JsonValue = Annotated[Any, AfterValidator(_storable)]


class Strict(BaseModel):
    """A schema object that refuses unknown fields and fills defaults for missing ones."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict:
        """The JSON-ready dict, with aliases (`"500"` for a colour shade) as on the wire."""
        return self.model_dump(mode="json", by_alias=True)


#: pydantic's names for numeric bounds -> JSON Schema's. pydantic writes its own names
#: when a bound sits on a number type that has a validator of its own (`schema.Int`):
#: validation applies them, but no JSON Schema tool would read them.
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum",
           "lt": "exclusiveMaximum", "multiple_of": "multipleOf"}


def standard_bounds(node: Any) -> None:
    """Rename pydantic's bound keywords to JSON Schema's in every number schema of a
    document (the OpenAPI and AsyncAPI documents), in place."""
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for ours, standard in _BOUNDS.items():
                if ours in node:
                    node.setdefault(standard, node.pop(ours))
        for value in node.values():
            standard_bounds(value)
    elif isinstance(node, list):
        for value in node:
            standard_bounds(value)
