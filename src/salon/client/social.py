"""Raised hands and reactions (docs/protocol.md "Raised hands and reactions")."""

from typing import Any

from salon.client.requester import Requester


class SocialActions(Requester):

    async def raise_hand(self) -> dict[str, Any]:
        """Raise this peer's hand; raising it again keeps its place (`hand_raised_at`)."""
        return await self.request("self.hand", raised=True)

    async def lower_hand(self) -> dict[str, Any]:
        return await self.request("self.hand", raised=False)

    async def lower_hands(self, peer_ids: list[str] | None = None) -> dict[str, Any]:
        """A host lowers the named peers' hands, or every raised hand (None)."""
        if peer_ids is None:
            return await self.request("host.lower_hands", all=True)
        return await self.request("host.lower_hands", peer_ids=peer_ids)

    async def react(self, emoji: str) -> dict[str, Any]:
        """Send one of the allow-listed emoji (`salon.core.room.reactions.REACTIONS`)."""
        return await self.request("reaction.send", emoji=emoji)
