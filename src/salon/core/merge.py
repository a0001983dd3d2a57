"""Deep merge for partial updates (PATCH of presets and of a meeting's nested configs)."""

from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with `patch` laid over it; nested mappings merge, anything else replaces.

    A `None` in the patch replaces too: that is how a caller clears a nullable field.
    """
    merged = dict(base)
    for key, value in patch.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
