"""The one thing the request mixins of `RealtimeClient` rely on."""

from typing import Any, Protocol


class Requester(Protocol):
    """What the action mixins need from the connection."""

    async def request(self, kind: str, /, **data: Any) -> dict[str, Any]: ...
