"""Realtime commands of the polls feature (see docs/protocol.md and docs/polls-and-qna.md).

Parameters are type-checked here; the rules (lengths, option count, index bounds, one
vote per participant) live in `salon.core.room.polls`, shared with REST AS6.
"""

from salon.core.clock import utcnow
from salon.core.ratelimit import Limit
from salon.core.room import polls
from salon.core.schema import Flag, Int, Strict, text
from salon.realtime.commands.base import AsyncCommand, Command, NoParams

PollId = text(64, min_length=1, name=True)
#: Lengths are the rules' to check (`core.room.polls`), shared with REST AS6.
Text = text()


class CreatePoll(Strict):
    question: Text
    options: list[Text]
    anonymous: Flag = False
    hide_votes: Flag = False


class Vote(Strict):
    poll_id: PollId
    index: Int  # 1.0 too, as every integer of the protocol


COMMANDS: dict[str, Command | AsyncCommand] = {
    "poll.create": Command(CreatePoll, lambda h, me, p: lambda: polls.create(
        h.room, me, p.question, p.options, anonymous=p.anonymous, hide_votes=p.hide_votes,
        now=utcnow()), limit=Limit("poll.create", 10, 60)),
    "poll.vote": Command(Vote, lambda h, me, p: lambda: polls.vote(
        h.room, me, p.poll_id, p.index, utcnow()), limit=Limit("poll.vote", 5, 1, burst=10)),
    "poll.list": Command(NoParams, lambda h, me, p: lambda: polls.list_polls(h.room, me),
                         limit=Limit("poll.list", 2, 1, burst=5)),
}
