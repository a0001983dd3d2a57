"""Base classes for the wire schemas salon validates.

Request bodies refuse unknown fields, so a misspelt field is a 400 that names it instead
of a setting silently ignored.
"""

from pydantic import BaseModel, ConfigDict, StrictBool

#: Booleans must be JSON booleans: `"yes"` or `1` is a 400, not a silent `true`.
Flag = StrictBool


class Strict(BaseModel):
    """A schema object that refuses unknown fields and fills defaults for missing ones."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict:
        """The JSON-ready dict, with aliases (`"500"` for a colour shade) as on the wire."""
        return self.model_dump(mode="json", by_alias=True)
