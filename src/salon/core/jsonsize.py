"""JSON values that clients send: how deep they nest, what they hold, how big they are.

Parsers accept deeper nesting than salon can send back: `orjson.loads` takes 1024 levels
and Python's `json` nearly as many, but `orjson.dumps` — which renders every reply, event
and REST answer — gives up past 254. A value that got in deeper could be stored and then
never be read again. So the edges refuse anything nested deeper than `MAX_DEPTH` (far
more than any real payload needs): `realtime.protocol.decode` for every WebSocket
message, `core.schema.JsonObject` for free-form JSON in REST bodies.

Sizes are the bytes of compact UTF-8 JSON as orjson writes them: what the bounds on
chat payloads, store values and plugin state measure.
"""

import math
from typing import Any

import orjson

#: How many levels of objects and arrays a client's JSON may nest (`{}` is one level).
MAX_DEPTH = 32


def deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether objects and arrays in `value` nest more than `limit` levels.

    Walked with a stack, not recursion, so any parsed value is safe to ask about.
    """
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[dict | list, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return False


def storable_problem(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why a parsed JSON value cannot be kept in the database and sent back, or None.

    Refused: nesting deeper than `limit`; a NUL character in a string or key (PostgreSQL
    stores no NUL in text or JSON); a number that is not finite (JSON has no NaN or
    Infinity, though Python's parser accepts them); an integer beyond 64 bits (Python's
    parser reads any, orjson writes none); a float of 2^63 or more in size (PostgreSQL
    stores it as an integer that then comes back beyond 64 bits).
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "must not contain NUL characters (\\u0000)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "must hold only finite numbers"
            # PostgreSQL's jsonb keeps 1e300 as a 301-digit integer, which comes back as
            # a Python int that no JSON writer here can send (a 500 on every read after).
            if abs(item) >= 2 ** 63:
                return "must hold only numbers smaller than 2^63 in size"
        elif isinstance(item, int) and not isinstance(item, bool):
            if not -(2 ** 63) <= item < 2 ** 64:
                return "must hold only integers that fit in 64 bits"
        elif isinstance(item, dict | list):
            if level + 1 > limit:
                return f"must not nest objects and arrays more than {limit} levels deep"
            if isinstance(item, dict):
                for key in item:
                    if isinstance(key, str) and "\x00" in key:
                        return "must not contain NUL characters (\\u0000)"
                children = item.values()
            else:
                children = item
            stack.extend((child, level + 1) for child in children
                         if child is not None and not isinstance(child, bool))
    return None


def encoded_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON; ValueError if it cannot be written."""
    try:
        return len(orjson.dumps(value))
    except orjson.JSONEncodeError as error:
        raise ValueError(f"cannot be written as JSON ({error})") from None
