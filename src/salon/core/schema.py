"""Base classes and shared field types for the wire schemas salon validates.

Request bodies refuse unknown fields, so a misspelt field is a 400 that names it instead
of a setting silently ignored.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool

from salon.core.jsonsize import storable_problem

#: Booleans must be JSON booleans: `"yes"` or `1` is a 400, not a silent `true`.
Flag = StrictBool


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
