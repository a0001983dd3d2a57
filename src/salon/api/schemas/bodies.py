"""Request bodies the OpenAPI document cannot take from a route's signature."""

from typing import Any

from pydantic import BaseModel


def patch_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a PATCH that takes any subset of `model`'s fields, at any depth:
    the route merges the body into the stored object (nested objects too) and validates
    the result as `model`. So the schema is `model`'s, inlined, with nothing required
    and no defaults (a field left out keeps its stored value, not the default); what the
    merged whole lacks is a 400 that names it."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def partial(node: Any, names: bool = False) -> Any:
        """`names`: `node` maps property names to schemas (any name is kept)."""
        if isinstance(node, list):
            return [partial(item) for item in node]
        if not isinstance(node, dict):
            return node
        if names:
            return {key: partial(value) for key, value in node.items()}
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = {**definitions[name], **{k: v for k, v in node.items() if k != "$ref"}}
        return {key: partial(value, names=key in ("properties", "patternProperties"))
                for key, value in node.items()
                if not (key == "required" and isinstance(value, list)) and key != "default"}

    body = partial(schema)
    body["title"] = f"{model.__name__} (any subset)"
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": body}}}}
