"""The plugin registry of an app: what a plugin is, and the body rules (a salon addition).

RealtimeKit registers plugins in its own dashboard and documents no REST API for them
(reference §6.3); salon keeps an app-level registry that live sessions activate from.
"""

from typing import Annotated

from pydantic import Field

from salon.core.schema import Strict

HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s/?#]+\S*$", max_length=2048)]
PluginName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^\S(?:.*\S)?$")]


class PluginBody(Strict):
    """Create and replace body; PATCH lays a subset over the stored plugin and checks this."""

    name: PluginName
    url: HttpUrl
    icon: HttpUrl | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
