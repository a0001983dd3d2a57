"""Polls of the session (reference §6.2): create, vote by option index, list.

Permissions come from the preset (`polls.can_create`, `can_vote`, `can_view`); the
operator creates polls over REST (AS6) with `by=None`. A participant votes once per poll,
whichever of its peers votes, and the room is the single writer, so concurrent votes are
counted exactly.

What a viewer sees is decided here, per viewer, and never by hiding a button:

- `can_view` false: no poll events at all, and `poll.list` is refused.
- `anonymous`: tallies without identities — option `votes` and `voted` stay empty.
- `hide_votes`: counts and votes stay hidden (`results_hidden`) until the viewer's
  participant has voted; the participant who created the poll always sees them.
- hidden participants (`hidden_participant`) vote like anyone, but never by name.

Viewers fall into at most three groups per poll — results hidden; results shown, not yet
voted; voted — and each event is built once per group, so the gateway serializes it once
for everyone in the group. A vote sends a small delta (`poll.voted`) rather than the
whole poll, which grows with its voters: a full poll to every peer on every vote would
cost O(voters × viewers) bytes per vote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from salon.core.clock import isoformat
from salon.core.ids import new_uuid
from salon.core.room.audience import is_audience
from salon.core.room.errors import RoomError, forbidden, invalid, not_found
from salon.core.room.outcome import Outcome, Record
from salon.core.room.peer import Peer

if TYPE_CHECKING:
    from salon.core.room.room import Room

MAX_QUESTION_CHARS = 500
MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_OPTION_CHARS = 200
#: Polls one session may hold; more is refused with CONFLICT.
MAX_POLLS = 100


@dataclass(frozen=True)
class Vote:
    index: int
    participant_id: str
    name: str
    #: Cast by a hidden participant: counted, never shown by name.
    hidden: bool


@dataclass
class Poll:
    id: str
    question: str
    options: list[str]
    anonymous: bool
    hide_votes: bool
    created_by: str
    #: The creating participant; None when the operator created it over REST.
    created_by_user_id: str | None
    created_by_peer_id: str | None
    created_at: datetime
    #: participant id → vote, in the order the votes came.
    votes: dict[str, Vote] = field(default_factory=dict)
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.options)

    def has_voted(self, participant_id: str | None) -> bool:
        return participant_id is not None and participant_id in self.votes

    def shows_results_to(self, participant_id: str | None) -> bool:
        """`participant_id` None is the operator, who sees everything."""
        return (participant_id is None or not self.hide_votes
                or participant_id == self.created_by_user_id or self.has_voted(participant_id))

    def named(self, vote: Vote) -> bool:
        return not self.anonymous and not vote.hidden

    def view(self, *, results: bool, has_voted: bool) -> dict[str, Any]:
        """The poll as one group of viewers sees it (§6.2 shape, plus salon's extras)."""
        voters: list[list[dict[str, str]]] = [[] for _ in self.options]
        if results and not self.anonymous:
            for vote in self.votes.values():
                if not vote.hidden:
                    voters[vote.index].append({"id": vote.participant_id, "name": vote.name})
        options = [{"text": text,
                    "count": self.counts[index] if results else None,
                    "votes": voters[index]}
                   for index, text in enumerate(self.options)]
        return {
            "id": self.id,
            "question": self.question,
            "options": options,
            "anonymous": self.anonymous,
            "hide_votes": self.hide_votes,
            "created_by": self.created_by,
            "created_by_user_id": self.created_by_user_id,
            "voted": [] if self.anonymous else [pid for pid, vote in self.votes.items()
                                                if not vote.hidden],
            "voters": len(self.votes),
            "results_hidden": not results,
            "has_voted": has_voted,
            "created_at": isoformat(self.created_at),
        }

    def view_for(self, participant_id: str | None) -> dict[str, Any]:
        return self.view(results=self.shows_results_to(participant_id),
                         has_voted=self.has_voted(participant_id))


@dataclass
class PollBook:
    """Per-session state; a new session starts with a fresh one."""

    polls: dict[str, Poll] = field(default_factory=dict)

    def get(self, poll_id: str) -> Poll:
        try:
            return self.polls[poll_id]
        except KeyError:
            raise not_found(f"No poll {poll_id} in this session.") from None


# --- who sees what --------------------------------------------------------------------------


def viewers(room: Room) -> list[Peer]:
    """Joined peers whose preset lets them see polls."""
    return [peer for peer in room.joined if peer.permissions.polls.can_view]


def _groups(room: Room, poll: Poll, *, but_peer: str | None = None,
            but_participant: str | None = None,
            among: Iterable[Peer] | None = None) -> dict[tuple[bool, bool], set[str]]:
    """Viewers (of `among`, default all) by (results shown, has voted): everyone in a
    group gets the same bytes."""
    groups: dict[tuple[bool, bool], set[str]] = {}
    candidates = viewers(room) if among is None else [
        p for p in among if p.permissions.polls.can_view]
    for peer in candidates:
        if peer.peer_id == but_peer or peer.participant_id == but_participant:
            continue
        key = (poll.shows_results_to(peer.participant_id), poll.has_voted(peer.participant_id))
        groups.setdefault(key, set()).add(peer.peer_id)
    return groups


def tally_for(room: Room, poll: Poll, peers_: list[Peer]) -> Outcome:
    """A large room's batched `poll.voted`: the tally now, no voter."""
    out = Outcome()
    for (results, _), peers in _groups(room, poll, among=peers_).items():
        out.send("poll.voted", {"poll_id": poll.id, "voters": len(poll.votes),
                                "counts": list(poll.counts) if results else None,
                                "voted_id": None, "vote": None}, peers)
    return out


# --- commands -------------------------------------------------------------------------------


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise invalid(f"{what} must be 1 to {limit} characters.")
    return value.strip()


def checked(question: Any, options: Any) -> tuple[str, list[str]]:
    """A poll's question and options as they are kept (trimmed); RoomError INVALID if
    they break the rules. The REST edge asks before it looks for a live session."""
    question = _text(question, "A poll question", MAX_QUESTION_CHARS)
    if not isinstance(options, list) or not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise invalid(f"A poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options.")
    texts = [_text(option, "Each option", MAX_OPTION_CHARS) for option in options]
    if len(set(texts)) != len(texts):
        raise invalid("Poll options must differ from each other.")
    return question, texts


def create(room: Room, by: str | None, question: Any, options: Any, *, anonymous: bool,
           hide_votes: bool, now: datetime, operator_name: str = "API") -> Outcome:
    """A new poll from a peer with `polls.can_create`, or from the operator (`by` None)."""
    creator: Peer | None = None
    if by is not None:
        creator = room.actor(by)
        if not creator.permissions.polls.can_create:
            raise forbidden("create polls", "polls.can_create")
    question, texts = checked(question, options)
    if len(room.polls.polls) >= MAX_POLLS:
        raise RoomError("CONFLICT", f"A session holds at most {MAX_POLLS} polls.")
    poll = Poll(
        id=new_uuid(), question=question, options=texts, anonymous=anonymous,
        hide_votes=hide_votes,
        created_by=creator.name if creator else operator_name,
        created_by_user_id=creator.participant_id if creator else None,
        created_by_peer_id=creator.peer_id if creator else None,
        created_at=now,
    )
    room.polls.polls[poll.id] = poll
    out = Outcome()
    creator_id = creator.participant_id if creator else None
    if creator is None or creator.permissions.polls.can_view:
        out.reply = {"poll": poll.view_for(creator_id)}
    else:
        out.reply = {"poll_id": poll.id}
    for (results, has_voted), peers in _groups(room, poll, but_peer=by).items():
        out.send("poll.created", {"poll": poll.view(results=results, has_voted=has_voted)},
                 peers)
    out.record(Record.POLL_CREATED, now, session_id=room.session_id, poll_id=poll.id,
               question=poll.question, options=poll.options, anonymous=anonymous,
               hide_votes=hide_votes, created_by=poll.created_by,
               created_by_user_id=poll.created_by_user_id,
               created_by_peer_id=poll.created_by_peer_id)
    return out


def vote(room: Room, peer_id: str, poll_id: str, index: int, now: datetime) -> Outcome:
    """One vote per participant and poll, by option index."""
    peer = room.actor(peer_id)
    if not peer.permissions.polls.can_vote:
        raise forbidden("vote in polls", "polls.can_vote")
    poll = room.polls.get(poll_id)
    if isinstance(index, bool) or not isinstance(index, int) \
            or not 0 <= index < len(poll.options):
        raise invalid(f"'index' must be an option index from 0 to {len(poll.options) - 1}.")
    if poll.has_voted(peer.participant_id):
        raise RoomError("CONFLICT", "You have already voted in this poll.")
    cast = Vote(index, peer.participant_id, peer.name, peer.hidden)
    poll.votes[peer.participant_id] = cast
    poll.counts[index] += 1

    out = Outcome()
    # In a large room the audience hears of votes as one batched tally per poll and
    # flush (audience.flush): a vote costs the same whatever the room's size. Its own
    # reply is short too: a whole poll view lists every voter.
    large = room.is_large
    if peer.permissions.polls.can_view and not (large and is_audience(peer)):
        out.reply = {"poll": poll.view_for(peer.participant_id)}
    else:
        out.reply = {"poll_id": poll.id, "index": index}
    # The voter's other peers: their view changed (voted, and maybe results revealed).
    mine = {p.peer_id for p in room.peers_of(peer.participant_id)
            if p.joined and p.permissions.polls.can_view and p.peer_id != peer.peer_id}
    if mine:  # a whole view lists every voter: not built for nobody
        out.send("poll.updated", {"poll": poll.view_for(peer.participant_id)}, mine)
    # Everyone else: what changed, as far as their group may know. In a large room
    # everyone hears of votes as one batched tally per poll and flush (audience.flush):
    # per vote, a host of a 3,000-voter poll got 3,000 events a poll.
    if large:
        room.audience.note_vote(poll.id)
    else:
        named = poll.named(cast)
        for (results, _), peers in _groups(room, poll,
                                           but_participant=peer.participant_id).items():
            out.send("poll.voted", {
                "poll_id": poll.id,
                "voters": len(poll.votes),
                "counts": list(poll.counts) if results else None,
                "voted_id": peer.participant_id if named else None,
                "vote": ({"index": index, "id": peer.participant_id, "name": peer.name}
                         if named and results else None),
            }, peers)
    out.record(Record.POLL_VOTED, now, session_id=room.session_id, poll_id=poll.id,
               participant_id=peer.participant_id, peer_id=peer.peer_id, name=peer.name,
               index=index)
    return out


def list_polls(room: Room, peer_id: str) -> Outcome:
    """Every poll of the session, oldest first, as this peer may see them."""
    peer = room.actor(peer_id)
    if not peer.permissions.polls.can_view:
        raise forbidden("see polls", "polls.can_view")
    return Outcome(reply={"polls": [poll.view_for(peer.participant_id)
                                    for poll in room.polls.polls.values()]})
