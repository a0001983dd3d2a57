"""Questions and answers of the session — a salon addition (RealtimeKit has no Q&A API).

The audience asks, everyone upvotes, moderators mark questions answered or dismiss them:

- ask: any joined peer whose preset has `chat.public.can_send` — Q&A is a public text
  channel, so a preset kept out of public chat is kept out of Q&A too.
- upvote: any joined peer, once per participant and question, not its own question, and
  only while the question is open.
- answer / dismiss: moderators, i.e. stage managers (`accept_stage_requests` or
  `can_accept_production_requests`) — the people who run a webinar's stage run its
  questions. An open question moves to ANSWERED (with an optional written answer) or
  DISMISSED; either is final.
- everyone joined sees every question, dismissed ones included (with their status);
  hidden participants ask and upvote without their name.

Every joined peer shares one view of a question, so each event is serialized once. An
upvote sends a small delta (`qna.upvoted`), not the question with its growing list. In
a large room (docs/large-rooms.md) everyone hears of upvotes as one batched count per
question and interval, and an audience member's upvote is answered with the count.
"""

from __future__ import annotations

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
MAX_ANSWER_CHARS = 2000
#: Questions one session may hold; more is refused with CONFLICT.
MAX_QUESTIONS = 1000

OPEN = "OPEN"
ANSWERED = "ANSWERED"
DISMISSED = "DISMISSED"


@dataclass
class Question:
    id: str
    text: str
    participant_id: str
    peer_id: str
    name: str
    #: Asked by a hidden participant: shown without a name.
    hidden: bool
    created_at: datetime
    status: str = OPEN
    answer: str | None = None
    resolved_at: datetime | None = None
    resolved_by_peer_id: str | None = None
    #: participant id → whether that upvoter was hidden, in upvote order.
    upvoters: dict[str, bool] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "asked_by": None if self.hidden else {"id": self.participant_id,
                                                   "peer_id": self.peer_id,
                                                   "name": self.name},
            "upvotes": len(self.upvoters),
            "upvoted_by": [pid for pid, hidden in self.upvoters.items() if not hidden],
            "status": self.status,
            "answer": self.answer,
            "created_at": isoformat(self.created_at),
            "resolved_at": isoformat(self.resolved_at),
            "resolved_by_peer_id": self.resolved_by_peer_id,
        }


@dataclass
class QuestionBoard:
    """Per-session state; a new session starts with a fresh one."""

    questions: dict[str, Question] = field(default_factory=dict)

    def get(self, question_id: str) -> Question:
        try:
            return self.questions[question_id]
        except KeyError:
            raise not_found(f"No question {question_id} in this session.") from None


def moderates(peer: Peer) -> bool:
    return peer.manages_stage


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise invalid(f"{what} must be 1 to {limit} characters.")
    return value.strip()


def ask(room: Room, peer_id: str, text: Any, now: datetime) -> Outcome:
    peer = room.actor(peer_id)
    if not peer.permissions.chat.public.can_send:
        raise forbidden("ask questions", "chat.public.can_send")
    text = _text(text, "A question", MAX_QUESTION_CHARS)
    if len(room.questions.questions) >= MAX_QUESTIONS:
        raise RoomError("CONFLICT", f"A session holds at most {MAX_QUESTIONS} questions.")
    question = Question(id=new_uuid(), text=text, participant_id=peer.participant_id,
                        peer_id=peer.peer_id, name=peer.name, hidden=peer.hidden,
                        created_at=now)
    room.questions.questions[question.id] = question
    view = question.view()
    out = Outcome(reply={"question": view})
    out.send("qna.asked", {"question": view}, room.everyone(but=peer.peer_id))
    out.record(Record.QUESTION_ASKED, now, session_id=room.session_id,
               question_id=question.id, text=text, participant_id=peer.participant_id,
               peer_id=peer.peer_id, name=peer.name, hidden=peer.hidden)
    return out


def upvote(room: Room, peer_id: str, question_id: str, now: datetime) -> Outcome:
    peer = room.actor(peer_id)
    question = room.questions.get(question_id)
    if question.participant_id == peer.participant_id:
        raise RoomError("CONFLICT", "You cannot upvote your own question.")
    if question.status != OPEN:
        raise RoomError("CONFLICT", f"This question is {question.status.lower()}.")
    if peer.participant_id in question.upvoters:
        raise RoomError("CONFLICT", "You have already upvoted this question.")
    question.upvoters[peer.participant_id] = peer.hidden
    upvotes = len(question.upvoters)
    # In a large room everyone hears of upvotes as one batched count per question and
    # flush (audience.flush), and an audience member's reply is the count: a whole
    # question lists every upvoter, so both would grow with the room.
    if room.is_large:
        room.audience.note_upvote(question.id)
        out = Outcome(reply={"question_id": question.id, "upvotes": upvotes}
                      if is_audience(peer) else {"question": question.view()})
    else:
        out = Outcome(reply={"question": question.view()})
        out.send("qna.upvoted", {"question_id": question.id, "upvotes": upvotes,
                                 "upvoted_by": None if peer.hidden else peer.participant_id},
                 room.everyone(but=peer.peer_id))
    out.record(Record.QUESTION_UPVOTED, now, session_id=room.session_id,
               question_id=question.id, participant_id=peer.participant_id,
               peer_id=peer.peer_id, upvotes=upvotes)
    return out


def _resolve(room: Room, peer_id: str, question_id: str, status: str, answer: Any,
             now: datetime) -> Outcome:
    peer = room.actor(peer_id)
    if not moderates(peer):
        raise forbidden("moderate questions", "accept_stage_requests")
    question = room.questions.get(question_id)
    if answer is not None:
        answer = _text(answer, "An answer", MAX_ANSWER_CHARS)
    if question.status != OPEN:
        raise RoomError("CONFLICT", f"This question is already {question.status.lower()}.")
    question.status = status
    question.answer = answer
    question.resolved_at = now
    question.resolved_by_peer_id = peer.peer_id
    view = question.view()
    out = Outcome(reply={"question": view})
    out.send("qna.updated", {"question": view}, room.everyone(but=peer.peer_id))
    out.record(Record.QUESTION_RESOLVED, now, session_id=room.session_id,
               question_id=question.id, status=status, answer=answer,
               by_peer_id=peer.peer_id)
    return out


def answer(room: Room, peer_id: str, question_id: str, text: Any, now: datetime) -> Outcome:
    """Mark an open question answered, optionally with a written answer."""
    return _resolve(room, peer_id, question_id, ANSWERED, text, now)


def dismiss(room: Room, peer_id: str, question_id: str, now: datetime) -> Outcome:
    return _resolve(room, peer_id, question_id, DISMISSED, None, now)


def list_questions(room: Room, peer_id: str) -> Outcome:
    """Every question of the session, in the order they were asked."""
    room.actor(peer_id)
    return Outcome(reply={"questions": [q.view() for q in room.questions.questions.values()]})
