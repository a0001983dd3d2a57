"""What a room command produces, for the gateway to carry out in order."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Outgoing:
    """One event for a set of peers; the gateway serializes it once for all of them."""

    event: str
    data: dict[str, Any]
    to: frozenset[str]


@dataclass(frozen=True)
class Record:
    """A fact to persist: `kind` is one of the names below, `data` its details."""

    kind: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    SESSION_STARTED = "session_started"
    PEER_JOINED = "peer_joined"
    PEER_LEFT = "peer_left"
    SESSION_IDLE = "session_idle"  # last joined peer left: the keep-alive clock starts
    SESSION_RESUMED = "session_resumed"  # someone joined within the keep-alive window
    SESSION_ENDED = "session_ended"
    # polls and Q&A (core/room/polls.py, qna.py)
    POLL_CREATED = "poll_created"
    POLL_VOTED = "poll_voted"
    QUESTION_ASKED = "question_asked"
    QUESTION_UPVOTED = "question_upvoted"
    QUESTION_RESOLVED = "question_resolved"  # answered or dismissed


@dataclass(frozen=True)
class Close:
    """Close a peer's connection after its last event is sent."""

    peer_id: str
    code: int
    reason: str


@dataclass
class Outcome:
    reply: dict[str, Any] = field(default_factory=dict)
    events: list[Outgoing] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    closes: list[Close] = field(default_factory=list)
    #: Peers whose media-relevant state may have changed (rights, what is on, joined or
    #: gone); the live layer brings the media backend in line with them.
    media_touched: set[str] = field(default_factory=set)
    #: Who receives whom may have changed for everyone (a pin).
    media_replan: bool = False

    def send(self, event: str, data: dict[str, Any], to: set[str] | frozenset[str]) -> None:
        if to:
            self.events.append(Outgoing(event, data, frozenset(to)))

    def record(self, kind: str, at: datetime, **data: Any) -> None:
        self.records.append(Record(kind, at, data))

    def close(self, peer_id: str, code: int, reason: str) -> None:
        self.closes.append(Close(peer_id, code, reason))
