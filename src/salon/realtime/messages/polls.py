"""Polls and Q&A: replies and events (docs/protocol.md "Polls", "Q&A";
docs/polls-and-qna.md)."""

from typing import Any, Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import Timestamp, closed

# --- polls --------------------------------------------------------------------------------


@closed
class Voter(TypedDict):
    id: str
    name: str


@closed
class PollOption(TypedDict):
    text: str
    #: null while the results are hidden from the viewer.
    count: int | None
    votes: list[Voter]


@closed
class Poll(TypedDict):
    """A poll as one viewer may see it (docs/polls-and-qna.md)."""

    id: str
    question: str
    options: list[PollOption]
    anonymous: bool
    hide_votes: bool
    created_by: str
    created_by_user_id: str | None
    voted: list[str]
    voters: int
    results_hidden: bool
    has_voted: bool
    created_at: Timestamp


@closed
class PollReply(TypedDict):
    poll: Poll


@closed
class PollCreatedUnseen(TypedDict):
    """`poll.create` by a peer that may not view polls."""

    poll_id: str


@closed
class VotedUnseen(TypedDict):
    """`poll.vote` by a peer that may not view polls."""

    poll_id: str
    index: int


@closed
class Polls(TypedDict):
    polls: list[Poll]


@closed
class CastVote(Voter):
    index: int


@closed
class PollVoted(TypedDict):
    poll_id: str
    voters: int
    counts: list[int] | None
    voted_id: str | None
    vote: CastVote | None


# --- Q&A ----------------------------------------------------------------------------------


@closed
class Asker(TypedDict):
    id: str
    peer_id: str
    name: str


@closed
class Question(TypedDict):
    id: str
    text: str
    #: null for a hidden participant's question.
    asked_by: Asker | None
    upvotes: int
    upvoted_by: list[str]
    status: Literal["OPEN", "ANSWERED", "DISMISSED"]
    answer: str | None
    created_at: Timestamp
    resolved_at: Timestamp | None
    resolved_by_peer_id: str | None


@closed
class QuestionReply(TypedDict):
    question: Question


@closed
class Questions(TypedDict):
    questions: list[Question]


@closed
class Upvoted(TypedDict):
    question_id: str
    upvotes: int
    upvoted_by: str | None


@closed
class UpvoteCounted(TypedDict):
    """`qna.upvote` by an audience member of a large room: the count, not the question
    with its list of every upvoter."""

    question_id: str
    upvotes: int


REPLIES: dict[str, Any] = {
    "poll.create": PollReply | PollCreatedUnseen,
    "poll.vote": PollReply | VotedUnseen,
    "poll.list": Polls,
    "qna.ask": QuestionReply,
    "qna.upvote": QuestionReply | UpvoteCounted,
    "qna.answer": QuestionReply,
    "qna.dismiss": QuestionReply,
    "qna.list": Questions,
}

EVENTS: dict[str, Any] = {
    "poll.created": PollReply,
    "poll.voted": PollVoted,
    "poll.updated": PollReply,
    "qna.asked": QuestionReply,
    "qna.upvoted": Upvoted,
    "qna.updated": QuestionReply,
}
