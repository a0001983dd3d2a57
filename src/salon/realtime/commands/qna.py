"""Realtime commands of Q&A, a salon addition (see docs/protocol.md, docs/polls-and-qna.md).

Parameters are type-checked here; the rules live in `salon.core.room.qna`.
"""

from salon.core.clock import utcnow
from salon.core.ratelimit import Limit
from salon.core.room import qna
from salon.core.schema import Strict, text
from salon.realtime.commands.base import AsyncCommand, Command, NoParams

QuestionId = text(64, min_length=1, name=True)
#: Lengths are the rules' to check (`core.room.qna`).
Text = text()


#: Answering and dismissing: what every joined peer hears about.
MODERATE = Limit("qna.moderate", 5, 1, burst=10)


class Ask(Strict):
    text: Text


class Target(Strict):
    question_id: QuestionId


class Answer(Strict):
    question_id: QuestionId
    answer: Text | None = None


COMMANDS: dict[str, Command | AsyncCommand] = {
    "qna.ask": Command(Ask, lambda h, me, p: lambda: qna.ask(h.room, me, p.text, utcnow()),
                       limit=Limit("qna.ask", 10, 60)),
    "qna.upvote": Command(Target, lambda h, me, p: lambda: qna.upvote(
        h.room, me, p.question_id, utcnow()), limit=Limit("qna.upvote", 5, 1, burst=10)),
    "qna.answer": Command(Answer, lambda h, me, p: lambda: qna.answer(
        h.room, me, p.question_id, p.answer, utcnow()), limit=MODERATE),
    "qna.dismiss": Command(Target, lambda h, me, p: lambda: qna.dismiss(
        h.room, me, p.question_id, utcnow()), limit=MODERATE),
    "qna.list": Command(NoParams, lambda h, me, p: lambda: qna.list_questions(h.room, me),
                        limit=Limit("qna.list", 2, 1, burst=5)),
}
