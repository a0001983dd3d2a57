"""Q&A (a salon addition) with real clients: ask, upvote, answer, dismiss, the denials, the
limits, and the questions kept with the session."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from salon.client import RealtimeClient, RealtimeError
from salon.settings import Settings
from salon.store.database import Database
from salon.store.models import Question, QuestionUpvote
from tests.live import Meeting, eventually
from tests.servers import SalonServer


def _participant(peer: RealtimeClient) -> str:
    return peer.joined["self"]["participant_id"]


async def _stored(server: SalonServer, session_id: str) -> list[tuple[Question, list[str]]]:
    database = Database(Settings(data_dir=Path(server.data_dir),
                                 database_url=server.database_url))
    try:
        async with database.session() as db:
            questions = list(await db.scalars(
                select(Question).where(Question.session_id == session_id)
                .order_by(Question.created_at)))
            stored = []
            for question in questions:
                upvoters = await db.scalars(select(QuestionUpvote.participant_id).where(
                    QuestionUpvote.question_id == question.id))
                stored.append((question, sorted(upvoters)))
            return stored
    finally:
        await database.dispose()


async def test_ask_upvote_answer_dismiss(room: Meeting, live_server: SalonServer) -> None:
    presenter = await room.join("webinar_presenter", name="Pia")
    asker = await room.join("webinar_viewer", name="Ann")
    fan = await room.join("webinar_viewer", name="Fay")
    assert asker.joined["self"]["stage_status"] == "OFF_STAGE"

    question = await asker.ask("  How do breakout rooms work? ")
    assert question["text"] == "How do breakout rooms work?"
    assert question["asked_by"] == {"id": _participant(asker), "peer_id": asker.peer_id,
                                    "name": "Ann"}
    assert question["status"] == "OPEN" and question["upvotes"] == 0
    assert question["answer"] is None and question["resolved_at"] is None
    for peer in (presenter, fan):
        assert (await peer.wait_for("qna.asked"))["question"] == question
    assert asker.drain("qna.asked") == []

    upvoted = await fan.upvote(question["id"])
    assert upvoted["upvotes"] == 1 and upvoted["upvoted_by"] == [_participant(fan)]
    for peer in (presenter, asker):
        assert await peer.wait_for("qna.upvoted") == {
            "question_id": question["id"], "upvotes": 1, "upvoted_by": _participant(fan)}
    await presenter.upvote(question["id"])
    with pytest.raises(RealtimeError) as twice:
        await fan.upvote(question["id"])
    assert twice.value.code == "CONFLICT"
    with pytest.raises(RealtimeError) as own:
        await asker.upvote(question["id"])
    assert own.value.code == "CONFLICT"

    with pytest.raises(RealtimeError) as denied:
        await fan.answer(question["id"])
    assert denied.value.code == "FORBIDDEN" and "accept_stage_requests" in denied.value.message
    with pytest.raises(RealtimeError) as denied:
        await asker.dismiss(question["id"])
    assert denied.value.code == "FORBIDDEN"

    answered = await presenter.answer(question["id"], "Ask a host to open them.")
    assert answered["status"] == "ANSWERED" and answered["answer"] == "Ask a host to open them."
    assert answered["resolved_by_peer_id"] == presenter.peer_id and answered["upvotes"] == 2
    for peer in (asker, fan):
        assert (await peer.wait_for("qna.updated"))["question"] == answered
    latecomer = await room.join("webinar_viewer")
    for late in (presenter.answer(question["id"]), presenter.dismiss(question["id"]),
                 latecomer.upvote(question["id"])):
        with pytest.raises(RealtimeError) as closed:
            await late
        assert closed.value.code == "CONFLICT"

    second = await fan.ask("Is there a recording?")
    dismissed = await presenter.dismiss(second["id"])
    assert dismissed["status"] == "DISMISSED" and dismissed["answer"] is None
    assert (await asker.wait_for("qna.updated"))["question"]["status"] == "DISMISSED"

    listed = await asker.questions()
    assert [(q["id"], q["status"]) for q in listed] == [(question["id"], "ANSWERED"),
                                                        (second["id"], "DISMISSED")]
    assert listed[0]["upvoted_by"] == [_participant(fan), _participant(presenter)]

    session_id = presenter.joined["room"]["session_id"]
    stored = await eventually(lambda: _settled(live_server, session_id))
    (first_row, first_upvoters), (second_row, second_upvoters) = stored
    assert first_row.text == question["text"] and first_row.display_name == "Ann"
    assert first_row.status == "ANSWERED" and first_row.answer == "Ask a host to open them."
    assert first_row.upvotes == 2 and first_row.resolved_by_peer_id == presenter.peer_id
    assert first_upvoters == sorted([_participant(fan), _participant(presenter)])
    assert second_row.status == "DISMISSED" and second_upvoters == []


async def _settled(server: SalonServer, session_id: str) -> Any:
    stored = await _stored(server, session_id)
    if len(stored) == 2 and stored[1][0].status == "DISMISSED":
        return stored
    return None


async def test_qna_denials_and_limits(room: Meeting) -> None:
    quiet = f"quiet_{room.id[:8]}"
    await room.admin.create_preset(quiet, config={"view_type": "WEBINAR"}, permissions={
        "chat": {"public": {"can_send": False}}})
    host = await room.join("group_call_host")
    muted = await room.join(quiet)
    guest = await room.join()

    with pytest.raises(RealtimeError) as denied:
        await muted.ask("Can I ask?")
    assert denied.value.code == "FORBIDDEN" and "chat.public.can_send" in denied.value.message
    for data in ({"text": ""}, {"text": "   "}, {"text": "x" * 501}, {"text": 5}, {},
                 {"text": "ok", "anonymous": True}):
        with pytest.raises(RealtimeError) as bad:
            await guest.request("qna.ask", **data)
        assert bad.value.code == "INVALID", data
    for kind in ("qna.upvote", "qna.answer", "qna.dismiss"):
        with pytest.raises(RealtimeError) as unknown:
            await host.request(kind, question_id="no-such-question")
        assert unknown.value.code == "NOT_FOUND"
    question = await guest.ask("Valid?")
    with pytest.raises(RealtimeError) as bad:
        await host.answer(question["id"], "y" * 2001)
    assert bad.value.code == "INVALID"
    # A preset kept out of public chat may still read and upvote.
    await muted.upvote(question["id"])
    assert [q["upvotes"] for q in await muted.questions()] == [1]

    results = await asyncio.gather(*(guest.ask(f"Question {i}?") for i in range(12)),
                                   return_exceptions=True)
    limited = [r for r in results if isinstance(r, RealtimeError)]
    assert limited and all(r.code == "RATE_LIMITED" for r in limited)
    asked = len(results) - len(limited)
    assert asked <= 9  # 10 per minute, one spent above
    questions = await host.questions()
    assert len(questions) == 1 + asked and all(q["status"] == "OPEN" for q in questions)


async def test_questions_refused_as_invalid_use_no_budget(room: Meeting) -> None:
    """protocol.md: INVALID requests are answered without using a budget, also when the
    room's own rules refuse them (a 501-character question passes the field check)."""
    guest = await room.join()
    for _ in range(12):  # more than qna.ask's burst of 10
        with pytest.raises(RealtimeError) as bad:
            await guest.request("qna.ask", text="x" * 501)
        assert bad.value.code == "INVALID"
    assert (await guest.ask("Still allowed?"))["text"] == "Still allowed?"


async def test_waiting_peers_and_hidden_askers(room: Meeting) -> None:
    lobby = f"lobby_{room.id[:8]}"
    observer = f"observer_{room.id[:8]}"
    await room.admin.create_preset(lobby, permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    await room.admin.create_preset(observer, permissions={"hidden_participant": True})
    host = await room.join("group_call_host")
    waiting = await room.join(lobby)
    assert waiting.status == "waiting"
    with pytest.raises(RealtimeError) as early:
        await waiting.ask("Let me in?")
    assert early.value.code == "NOT_JOINED"

    hidden = await room.join(observer)
    question = await hidden.ask("Who is asking?")
    assert question["asked_by"] is None
    seen = (await host.wait_for("qna.asked"))["question"]
    assert seen["asked_by"] is None and seen["text"] == "Who is asking?"
    mine = await host.ask("Anyone there?")
    await hidden.upvote(mine["id"])
    upvote = await host.wait_for("qna.upvoted")
    assert upvote["upvotes"] == 1 and upvote["upvoted_by"] is None
    assert (await host.questions())[1]["upvoted_by"] == []
    await asyncio.sleep(0.1)
    assert waiting.drain("qna.asked") == [] and waiting.drain("qna.upvoted") == []
