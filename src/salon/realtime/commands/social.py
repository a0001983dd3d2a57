"""Raised hands and reactions: parameters, budgets and room commands."""

from pydantic import model_validator

from salon.core.clock import utcnow
from salon.core.ratelimit import Limit
from salon.core.room import hands, reactions
from salon.core.schema import Flag, Strict
from salon.realtime.commands.base import Command
from salon.realtime.commands.presence import HOST, PeerIds
from salon.realtime.messages.social import Emoji

# Budgets per participant (docs/protocol.md "Budgets"). A hand is a toggle everyone sees,
# like a microphone; lowering hands is a host action. Reactions are meant to come in
# bursts (applause), but each one reaches every peer: 5 a second, 10 at once.
SELF_HAND = Limit("self.hand", 2, 1, burst=10)
REACTION = Limit("reaction", 5, 1, burst=10)


class Hand(Strict):
    raised: Flag


class LowerHands(Strict):
    peer_ids: PeerIds | None = None
    all: Flag = False

    @model_validator(mode="after")
    def _one_of(self) -> "LowerHands":
        if (self.peer_ids is None) == (not self.all):
            raise ValueError("give either 'peer_ids' or 'all': true")
        return self


class React(Strict):
    emoji: Emoji


COMMANDS: dict[str, Command] = {
    "self.hand": Command(Hand, lambda h, me, p: lambda: hands.set_hand(
        h.room, me, p.raised, utcnow()), SELF_HAND),
    "host.lower_hands": Command(LowerHands, lambda h, me, p: lambda: hands.lower_hands(
        h.room, me, None if p.all else p.peer_ids), HOST),
    "reaction.send": Command(React, lambda h, me, p: lambda: reactions.react(
        h.room, me, p.emoji, utcnow()), REACTION),
}
