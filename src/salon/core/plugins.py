"""The plugin registry of an app: what a plugin is, and the body rules (a salon addition).

RealtimeKit registers plugins in its own dashboard and documents no REST API for them
(reference §6.3); salon keeps an app-level registry that live sessions activate from.
"""

from salon.core.schema import HttpUrl, Strict, text

PluginName = text(255, min_length=1, pattern=r"^\S(?:.*\S)?$", name=True)


class PluginBody(Strict):
    """Create and replace body; PATCH lays a subset over the stored plugin and checks this."""

    name: PluginName
    url: HttpUrl
    icon: HttpUrl | None = None
    description: text(2000) | None = None
