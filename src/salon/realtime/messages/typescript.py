"""TypeScript declarations of the realtime protocol, generated from its AsyncAPI document.

The browser SDK ships them as `protocol.d.ts` (`scripts/gen-protocol-types` writes it; a
test checks the committed file is current). Plain Python, so building them needs no npm.
Requests and events are discriminated unions (on `type` and `event`); replies are typed
per request type through `ReplyData`.
"""

import json
import re
import sys
from typing import Any

from salon.realtime.messages import EVENTS, asyncapi

HEADER = """\
// The realtime protocol's messages (docs/protocol.md), generated from the schema salon
// serves at /realtime/v1/asyncapi.json by scripts/gen-protocol-types. Do not edit.
"""
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_INDENT = "  "


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _key(name: str) -> str:
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def _comment(schema: dict[str, Any], depth: int) -> list[str]:
    text = schema.get("description")
    if not text:
        return []
    pad = _INDENT * depth
    lines = text.strip().splitlines()
    if len(lines) == 1:
        return [f"{pad}/** {lines[0]} */"]
    return [f"{pad}/**", *(f"{pad} * {line}".rstrip() for line in lines), f"{pad} */"]


def _union(parts: list[str]) -> str:
    unique = list(dict.fromkeys(parts))
    return " | ".join(unique) if unique else "never"


def _element(schema: dict[str, Any], depth: int) -> str:
    inner = ts(schema, depth)
    return f"({inner})[]" if " | " in inner or "=>" in inner else f"{inner}[]"


def _object(schema: dict[str, Any], depth: int) -> str:
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    required = set(schema.get("required", ()))
    if not properties:
        if extra is False:
            return "Record<string, never>"
        return f"{{ [key: string]: {ts(extra, depth) if isinstance(extra, dict) else 'unknown'} }}"
    pad = _INDENT * (depth + 1)
    lines = ["{"]
    for name, sub in properties.items():
        lines += _comment(sub, depth + 1)
        optional = "" if name in required else "?"
        lines.append(f"{pad}{_key(name)}{optional}: {ts(sub, depth + 1)};")
    if extra is not False:
        value = ts(extra, depth + 1) if isinstance(extra, dict) else "unknown"
        lines.append(f"{pad}[key: string]: {value};")
    lines.append(_INDENT * depth + "}")
    return "\n".join(lines)


def ts(schema: dict[str, Any] | bool, depth: int = 0) -> str:
    """The TypeScript type of one JSON Schema (the subset pydantic generates)."""
    if schema is True or schema == {}:
        return "unknown"
    if schema is False:
        return "never"
    assert isinstance(schema, dict)
    if "$ref" in schema:
        return _name(schema["$ref"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return _union([json.dumps(value) for value in schema["enum"]])
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            return _union([ts(part, depth) for part in schema[combined]])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return ts(schema["allOf"][0], depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union([ts({**schema, "type": one}, depth) for one in kind])
    if kind == "array":
        return _element(schema["items"], depth) if "items" in schema else "unknown[]"
    if kind == "object":
        return _object(schema, depth)
    simple = {"string": "string", "integer": "number", "number": "number",
              "boolean": "boolean", "null": "null"}
    return simple.get(kind, "unknown")  # type: ignore[arg-type]


def _declaration(name: str, schema: dict[str, Any]) -> list[str]:
    lines = _comment(schema, 0)
    if schema.get("type") == "object" and schema.get("properties"):
        return [*lines, f"export interface {name} {_object(schema, 0)}"]
    return [*lines, f"export type {name} = {ts(schema)};"]


def _inline(envelope: dict[str, Any]) -> str:
    """An envelope on one line: its fields are constants and references."""
    required = set(envelope["required"])
    fields = [f"{_key(name)}{'' if name in required else '?'}: {ts(sub)}"
              for name, sub in envelope["properties"].items()]
    return "{ " + "; ".join(fields) + " }"


def _tagged(union: str, tag: str, names: list[str], messages: dict[str, Any],
            doc: str, tags: str, data: str) -> list[str]:
    """A union of envelopes told apart by `tag`, the names of its tags, and the map of
    each tag to its `data`."""
    members = [f"  | {_inline(messages[name]['payload'])}" for name in names]
    members[-1] += ";"
    return [f"/** {doc} */", f"export type {union} =", *members, "",
            f"export type {tags} = {union}[{json.dumps(tag)}];", "",
            f"/** Each {tag}'s `data`. */",
            f"export type {data} = {{ [K in {tags}]: Extract<{union}, {{ {tag}: K }}> "
            "extends { data?: infer D } ? D : never };", ""]


def render() -> str:
    """The whole `protocol.d.ts`."""
    document = asyncapi.document()
    messages = document["components"]["messages"]
    kinds = list(asyncapi.request_params())
    out = [HEADER]
    for name, schema in document["components"]["schemas"].items():
        out += [*_declaration(name, schema), ""]
    out += _tagged("Request", "type", [asyncapi.request_message(k) for k in kinds], messages,
                   "Client → server, by `type`.", "RequestType", "RequestData")
    out += ["/** The `data` of the success reply to each request type. */",
            "export interface ReplyData {"]
    out += [f"  {json.dumps(k)}: "
            f"{ts(messages[asyncapi.reply_message(k)]['payload']['properties']['data'], 1)};"
            for k in kinds]
    out += ["}", "", "/** Server → client: the success reply to a request of type `K`. */",
            "export interface Reply<K extends RequestType = RequestType> {",
            "  type: \"reply\";", "  id: RequestId;", "  ok: true;", "  data: ReplyData[K];",
            "}", "", "/** Server → client: a request refused. */",
            f"export type ErrorReply = {_inline(messages[asyncapi.ERROR]['payload'])};", ""]
    out += _tagged("ServerEvent", "event", [asyncapi.event_message(n) for n in EVENTS],
                   messages, "Server → client, by `event`.", "EventName", "EventData")
    out += ["/** Anything the server sends; `type` tells them apart, then `ok` or `event`. */",
            "export type ServerMessage = Reply | ErrorReply | ServerEvent;", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
