"""Large rooms: who hears of whom once a room has many people (docs/large-rooms.md).

Below the room's threshold everyone sees everyone: each join, leave and change is a
per-peer event to every other peer. That is quadratic: a 3,000-person webinar would send
nine million `peer.joined` events while it fills. So once the room's participants
number at least the threshold, the *audience* — off-stage peers of stage-enabled
presets without host rights — no longer hear of each other one by one. They still get
per-peer events for the stage and the hosts (a handful), and instead of the rest a
batched `audience.delta` (counts, plus a capped sample of who came and went) at most
every flush interval, which the live layer's timer calls `flush` for. The full list is
paged on request (`peers.list`). Hosts and on-stage peers keep per-peer events for
everyone: they run the room and can follow its whole list.

Pure: no I/O and no clock; the room and the live layer call in.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salon.core.room.errors import forbidden, invalid
from salon.core.room.outcome import Outcome
from salon.core.room.peer import Peer, StageStatus

if TYPE_CHECKING:
    from salon.core.room.room import Room

#: Peers a `peers.list` page holds by default, and at most.
DEFAULT_PAGE = 50
MAX_PAGE = 100
#: Peers of the audience in a large room's join state: a first page, kept short since
#: every joiner gets it (`peers.list` pages are DEFAULT_PAGE).
FIRST_PAGE = 20
#: At most this many joiners (as PeerViews) and leavers (ids) in one `audience.delta`;
#: past it the delta says `more` and a client that wants names pages `peers.list`.
#: Every audience member gets each delta, so it stays small.
DELTA_JOINED_CAP = 10
DELTA_LEFT_CAP = 100
#: Longest `search` string (a display name is at most 255 characters).
MAX_SEARCH = 255


def is_host(peer: Peer) -> bool:
    """Host rights, for large rooms: the rights of those who run the room — admitting
    from the waiting room, removing people, running the stage. `show_participant_list`
    alone only lets a peer page the list; it does not make it a host."""
    p = peer.permissions
    return (p.accept_waiting_requests or p.kick_participant or p.accept_stage_requests
            or p.can_accept_production_requests)


def is_audience(peer: Peer) -> bool:
    """An audience member: a stage-enabled peer, off the stage, without host rights.
    Group-call peers are always on the stage, so a large group call stays per-peer."""
    return (peer.uses_stage and peer.stage_status is not StageStatus.ON_STAGE
            and not is_host(peer))


def may_list(peer: Peer) -> bool:
    """Who may page the participant list: a host, or a preset with `show_participant_list`."""
    return is_host(peer) or peer.permissions.show_participant_list


@dataclass
class AudienceLedger:
    """Audience arrivals and departures since the last `audience.delta`, in order."""

    joined: dict[str, Peer] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)
    #: Something changed the counts (anyone joined or left) while the room was large.
    dirty: bool = False
    #: Polls with votes the audience has not heard of yet (their tallies go batched).
    polls: set[str] = field(default_factory=set)
    #: Questions with upvotes the audience has not heard of yet (counts go batched).
    questions: set[str] = field(default_factory=set)
    #: The stage requests changed since the stage managers last got the list.
    stage_requests: bool = False

    @property
    def pending(self) -> bool:
        return self.dirty or bool(self.polls) or bool(self.questions) or self.stage_requests

    def note_vote(self, poll_id: str) -> None:
        self.polls.add(poll_id)

    def note_upvote(self, question_id: str) -> None:
        self.questions.add(question_id)

    def note_join(self, peer: Peer) -> None:
        self.dirty = True
        if is_audience(peer):
            self.joined[peer.peer_id] = peer

    def note_leave(self, peer: Peer) -> None:
        self.dirty = True
        if self.joined.pop(peer.peer_id, None) is None and is_audience(peer):
            self.left.append(peer.peer_id)

    def clear(self) -> None:
        self.joined.clear()
        self.left.clear()
        self.dirty = False
        self.polls.clear()
        self.questions.clear()
        self.stage_requests = False


def count_in(counts: dict[str, int], peer: Peer, step: int) -> None:
    """Add (`step` 1) or take away (-1) one peer from `counts`."""
    if peer.hidden:
        return
    counts["participants"] += step
    if is_audience(peer):
        counts["audience"] += step
    elif peer.stage_status is StageStatus.ON_STAGE:
        counts["on_stage"] += step


def counts(room: "Room") -> dict[str, int]:
    """How many are here, as anyone may know it: participants (hidden ones left out),
    those on the stage, and the audience. Kept by the room as peers come and go."""
    return room.counts()


def count_all(peers: Iterable[Peer]) -> dict[str, int]:
    tally = {"participants": 0, "on_stage": 0, "audience": 0}
    for peer in peers:
        count_in(tally, peer, 1)
    return tally


def flush(room: "Room") -> Outcome:
    """The batched delta for the audience, if anything changed since the last one; to
    everyone, the tallies of polls voted in since then (`poll.voted` without a voter) and
    the counts of questions upvoted since then (`qna.upvoted` without an upvoter); and to
    the stage managers, the stage requests if they changed.

    Sent while the room is large, and once more when it stops being large (`large`
    false): clients then ask for `state` to see everyone again.
    """
    from salon.core.room.polls import tally_for  # polls imports this module

    ledger = room.audience
    out = Outcome()
    everyone = list(room.joined)
    for poll_id in sorted(ledger.polls):
        poll = room.polls.polls.get(poll_id)
        if poll is not None:
            out.events += tally_for(room, poll, everyone).events
    ledger.polls.clear()
    upvoted = [room.questions.questions.get(i) for i in sorted(ledger.questions)]
    ledger.questions.clear()
    for question in upvoted:
        if question is not None:
            out.send("qna.upvoted", {"question_id": question.id,
                                     "upvotes": len(question.upvoters), "upvoted_by": None},
                     {p.peer_id for p in everyone})
    if ledger.stage_requests:
        ledger.stage_requests = False
        out.send("stage.requests", {"requests": room.stage_requests()}, room.stage_managers())
    if not ledger.dirty:
        return out
    joined = [p for p in ledger.joined.values() if p.peer_id in room.peers and not p.hidden]
    left = ledger.left
    data = {
        "large": room.is_large,
        "counts": counts(room),
        "joined": [p.public_view(room.pinned_peer_id) for p in joined[:DELTA_JOINED_CAP]],
        "left": left[:DELTA_LEFT_CAP],
        "more": len(joined) > DELTA_JOINED_CAP or len(left) > DELTA_LEFT_CAP,
    }
    ledger.clear()
    out.send("audience.delta", data, {p.peer_id for p in everyone if is_audience(p)})
    return out


def _cursor(peer: Peer) -> str:
    return str(peer.join_seq)


def _after(room: "Room", cursor: str | None) -> int:
    """The joining number a cursor names: one this room has given (`_cursor`)."""
    if cursor is None:
        return -1
    try:
        after = int(cursor)
    except ValueError:
        after = -1
    if after < 0 or str(after) != cursor or after > room.admissions:
        raise invalid("Unknown 'cursor': pass back a 'next_cursor' as it came.")
    return after


def page(room: "Room", viewer: Peer, *, cursor: str | None = None,
         limit: int = DEFAULT_PAGE, search: str | None = None) -> dict[str, Any]:
    """One page of the joined peers `viewer` may see, in joining order (stable: a
    newcomer lands at the end, a leaver drops out without shifting a cursor), filtered
    by a case-insensitive substring of the name. `next_cursor` is None on the last page."""
    if not 1 <= limit <= MAX_PAGE:
        raise invalid(f"'limit' must be 1 to {MAX_PAGE}.")
    after = _after(room, cursor)
    needle = search.strip().casefold() if search else ""
    found: list[Peer] = []
    more = False
    for peer in room.joined:  # admission order, which is join_seq order
        if peer.join_seq <= after or (peer.hidden and peer is not viewer):
            continue
        if needle and needle not in peer.name.casefold():
            continue
        if len(found) == limit:
            more = True
            break
        found.append(peer)
    return {"peers": [p.public_view(room.pinned_peer_id) for p in found],
            "next_cursor": _cursor(found[-1]) if more else None,
            "counts": counts(room)}


def list_peers(room: "Room", peer_id: str, *, cursor: str | None, limit: int,
               search: str | None) -> Outcome:
    """`peers.list`: for hosts and presets with `show_participant_list`."""
    viewer = room.actor(peer_id)
    if not may_list(viewer):
        raise forbidden("list the participants", "show_participant_list")
    if search is not None and len(search) > MAX_SEARCH:
        raise invalid(f"'search' is at most {MAX_SEARCH} characters.")
    return Outcome(reply=page(room, viewer, cursor=cursor, limit=limit, search=search))
