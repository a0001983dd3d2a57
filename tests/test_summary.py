"""Summaries (issue 14, item 3): the extractive engine, the LLM engine and the fallback.

The transcripts are written like people speak in meetings: small talk first, the topic,
tasks handed out by name, a decision. The LLM engine is tested against a real HTTP server
on loopback that speaks the chat-completions route.
"""

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, get_args

import pytest
from aiohttp import web

from salon.ai.summary import (
    ExtractiveSummarizer,
    LLMSummarizer,
    SummaryType,
    Utterance,
    count_words,
    summarize_extractive,
    summarize_with_fallback,
    summarizer_from_settings,
)
from salon.ai.summary.rank import rank_sentences
from salon.ai.summary.sentences import split_text
from salon.ai.summary.templates import TEMPLATES
from salon.settings import Settings

SUMMARY_TYPES: tuple[SummaryType, ...] = get_args(SummaryType)
FORMATS = ("markdown", "plain_text")
U = Utterance

#: Small talk first (no shared topic words), then the billing migration, two tasks handed
#: out (one by name to Bob, one taken on by Carol) and one decision.
TEAM_MEETING = [
    U("Alice", "Did anyone catch the football final on Sunday night?", 0),
    U("Bob", "My cousin visited from Lisbon with her two dogs.", 4_000),
    U("Carol", "The coffee machine on the third floor finally got repaired.", 8_000),
    U(
        "Alice",
        "Okay, let's start. Today we need to plan the billing service migration to Postgres.",
        15_000,
    ),
    U(
        "Carol",
        "The billing service migration is blocked by schema changes in the invoices table.",
        25_000,
    ),
    U(
        "Bob",
        "The invoices table schema changes could land this week if we split the billing "
        "migration into two steps.",
        35_000,
    ),
    U(
        "Alice",
        "Splitting the billing migration into two steps also lowers the risk for the invoices.",
        48_000,
    ),
    U(
        "Carol",
        "The Postgres billing tables need a backfill of old invoices after the migration.",
        58_000,
    ),
    U(
        "Alice",
        "After some back and forth, we decided to migrate the billing service to Postgres in two steps.",
        70_000,
    ),
    U("Alice", "Bob, can you write the migration script for the invoices table by Friday?", 80_000),
    U("Bob", "Sure.", 86_000),
    U("Carol", "I'll update the runbook for the billing migration and the backfill.", 90_000),
    U("Alice", "Great, thanks everyone.", 99_000),
]

STANDUP = [
    U("Alice", "Yesterday I finished the login page and merged the pull request for it.", 0),
    U("Alice", "Today I'll start on the password reset flow.", 6_000),
    U("Bob", "Yesterday I fixed the flaky payment tests in the checkout suite.", 12_000),
    U("Bob", "Today I will pair with Carol on the search index.", 18_000),
    U(
        "Bob",
        "I'm blocked on the staging database credentials, still waiting on the ops team.",
        24_000,
    ),
    U("Carol", "I worked on the search index mapping yesterday and it is almost done.", 30_000),
    U("Carol", "Today I'm going to finish the search index and deploy it to staging.", 36_000),
]

TINY = [U("Alice", "Hi everyone, can you hear me?", 0)]


def long_meeting(topics: int = 40) -> list[Utterance]:
    """A meeting long enough that every summary type runs into the word limit."""
    speakers = ("Alice", "Bob", "Carol", "Dan")
    said: list[Utterance] = list(TEAM_MEETING) + [
        U(u.speaker, u.text, 100_000 + u.start_ms) for u in STANDUP
    ]
    for i in range(topics):
        who = speakers[i % 4]
        said.append(
            U(
                who,
                f"For the billing dashboard, metric number {i} shows the invoice latency "
                f"around {i * 7} milliseconds and we should watch the Postgres queries for it. "
                f"Can you check the alert thresholds for metric {i} by Monday?",
                200_000 + i * 10_000,
            )
        )
    return said


def section(summary: str, heading: str) -> list[str]:
    """The non-empty lines under a markdown `### heading`, up to the next heading."""
    lines = summary.splitlines()
    start = lines.index(f"### {heading}") + 1
    body = []
    for line in lines[start:]:
        if line.startswith("#"):
            break
        if line.strip():
            body.append(line)
    return body


# --- word limit and format ----------------------------------------------------------


@pytest.mark.parametrize("word_limit", [150, 300])
@pytest.mark.parametrize("text_format", FORMATS)
@pytest.mark.parametrize("summary_type", SUMMARY_TYPES)
def test_every_type_and_format_stays_within_the_word_limit(
    summary_type: SummaryType, text_format: str, word_limit: int
) -> None:
    for transcript in (TEAM_MEETING, STANDUP, TINY, long_meeting()):
        summary = summarize_extractive(
            transcript, summary_type=summary_type, text_format=text_format, word_limit=word_limit
        )
        assert count_words(summary) <= word_limit, summary
    # The long meeting has far more to say: the budget is used, not left mostly empty.
    assert count_words(summary) >= word_limit * 0.6, summary


def test_the_limit_holds_even_below_the_layouts_own_words() -> None:
    summary = summarize_extractive(
        TEAM_MEETING, summary_type="daily_standup", text_format="markdown", word_limit=5
    )
    assert count_words(summary) <= 5


def test_headings_and_markers_count_as_words() -> None:
    assert count_words("## Meeting Summary\n\n### Action Items\n- @Bob: send it") == 10


_MARKDOWN_LINE_START = re.compile(r"^\s*(?:#|\*|-|\+|>|\d+[.)]\s)")


@pytest.mark.parametrize("summary_type", SUMMARY_TYPES)
def test_plain_text_has_no_markdown(summary_type: SummaryType) -> None:
    for transcript in (TEAM_MEETING, STANDUP, long_meeting()):
        summary = summarize_extractive(
            transcript, summary_type=summary_type, text_format="plain_text", word_limit=300
        )
        for line in summary.splitlines():
            assert not _MARKDOWN_LINE_START.match(line), line
        assert "**" not in summary and "##" not in summary


def test_team_meeting_markdown_follows_realtimekits_template() -> None:
    summary = summarize_extractive(
        TEAM_MEETING, summary_type="team_meeting", text_format="markdown", word_limit=300
    )
    headings = [line for line in summary.splitlines() if line.startswith("#")]
    assert headings == [
        "## Meeting Summary",
        "### Key Discussion Points",
        "### Action Items",
        "### Decisions Made",
    ]


def test_daily_standup_has_yesterday_today_blockers() -> None:
    summary = summarize_extractive(
        STANDUP, summary_type="daily_standup", text_format="markdown", word_limit=300
    )
    assert [line for line in summary.splitlines() if line.startswith("### ")][:3] == [
        "### Yesterday",
        "### Today",
        "### Blockers",
    ]
    assert any(
        line.startswith("- @Alice:") and "login page" in line
        for line in section(summary, "Yesterday")
    )
    assert any(
        line.startswith("- @Carol:") and "finish the search index" in line
        for line in section(summary, "Today")
    )
    blockers = section(summary, "Blockers")
    assert len(blockers) == 1 and blockers[0].startswith("- @Bob:")
    assert "staging database credentials" in blockers[0]


@pytest.mark.parametrize("summary_type", SUMMARY_TYPES)
@pytest.mark.parametrize("text_format", FORMATS)
def test_every_type_shows_its_title_and_headings(
    summary_type: SummaryType, text_format: str
) -> None:
    summary = summarize_extractive(
        TEAM_MEETING, summary_type=summary_type, text_format=text_format, word_limit=400
    )
    template = TEMPLATES[summary_type]
    lines = summary.splitlines()
    if text_format == "markdown":
        assert lines[0] == f"## {template.title}"
        assert all(f"### {s.heading}" in lines for s in template.sections)
    else:
        assert lines[0] == template.title
        assert all(f"{s.heading}:" in lines for s in template.sections)


# --- content ------------------------------------------------------------------------


def test_action_items_name_who_and_what() -> None:
    summary = summarize_extractive(
        TEAM_MEETING, summary_type="team_meeting", text_format="markdown", word_limit=300
    )
    actions = section(summary, "Action Items")
    # Alice asked Bob by name: the item is Bob's, not Alice's.
    assert any(
        line.startswith("- @Bob:") and "migration script" in line and "Friday" in line
        for line in actions
    ), actions
    assert any(line.startswith("- @Carol:") and "runbook" in line for line in actions), actions
    assert not any(line.startswith("- @Alice:") and "migration script" in line for line in actions)


def test_action_items_follow_an_at_mention() -> None:
    said = [
        U("Alice", "We reviewed the quarterly hiring plan for the platform team.", 0),
        U("Alice", "@Dana please send the hiring plan to finance tomorrow.", 5_000),
    ]
    summary = summarize_extractive(
        said, summary_type="team_meeting", text_format="plain_text", word_limit=150
    )
    assert any(line.startswith("@Dana:") and "finance" in line for line in summary.splitlines())


def test_the_decision_is_found() -> None:
    for summary_type in ("team_meeting", "general", "one_on_one_meeting", "code_review"):
        summary = summarize_extractive(
            TEAM_MEETING, summary_type=summary_type, text_format="markdown", word_limit=200
        )
        decisions = section(summary, "Decisions Made")
        assert len(decisions) == 1 and "two steps" in decisions[0], (summary_type, summary)


def test_the_most_central_sentences_are_picked_not_the_first() -> None:
    texts = [u.text for u in TEAM_MEETING]
    scores = rank_sentences(texts)
    top = sorted(range(len(texts)), key=lambda i: -scores[i])[:3]
    assert all(i >= 3 for i in top), [texts[i] for i in top]  # the small talk is first
    assert any("billing" in texts[i] for i in top)

    summary = summarize_extractive(
        TEAM_MEETING, summary_type="team_meeting", text_format="markdown", word_limit=150
    )
    points = " ".join(section(summary, "Key Discussion Points"))
    assert "billing" in points
    for small_talk in ("football", "Lisbon", "coffee"):
        assert small_talk not in summary


def test_key_points_come_in_the_order_they_were_said() -> None:
    summary = summarize_extractive(
        TEAM_MEETING, summary_type="team_meeting", text_format="markdown", word_limit=300
    )
    points = [line.removeprefix("- ") for line in section(summary, "Key Discussion Points")]
    said = " ".join(u.text for u in TEAM_MEETING)
    positions = [said.index(point) for point in points]
    assert len(points) >= 2 and positions == sorted(positions)


def test_same_input_same_summary() -> None:
    first = summarize_extractive(
        long_meeting(), summary_type="general", text_format="markdown", word_limit=300
    )
    again = summarize_extractive(
        long_meeting(), summary_type="general", text_format="markdown", word_limit=300
    )
    shuffled = summarize_extractive(
        list(reversed(long_meeting())),
        summary_type="general",
        text_format="markdown",
        word_limit=300,
    )
    assert first == again == shuffled


@pytest.mark.parametrize("text_format", FORMATS)
def test_nothing_said_is_an_honest_short_summary(text_format: str) -> None:
    for said in ([], [U("Alice", "   ", 0)], [U("Bob", "Um, okay.", 0)]):
        summary = summarize_extractive(
            said, summary_type="team_meeting", text_format=text_format, word_limit=150
        )
        assert "No discussion was recorded." in summary
        assert count_words(summary) <= 8


def test_a_tiny_meeting_gives_a_short_summary() -> None:
    summary = summarize_extractive(
        TINY, summary_type="team_meeting", text_format="markdown", word_limit=150
    )
    assert summary.startswith("## Meeting Summary")
    assert count_words(summary) < 40


def test_sentences_split_around_abbreviations_and_decimals() -> None:
    assert split_text(
        "Dr. Smith said the API is 3.5 times faster, e.g. on v2.1 of the client. "
        "Then we shipped it! Did it work? Yes, J. Doe agreed at 5 p.m. Friday."
    ) == [
        "Dr. Smith said the API is 3.5 times faster, e.g. on v2.1 of the client.",
        "Then we shipped it!",
        "Did it work?",
        "Yes, J. Doe agreed at 5 p.m. Friday.",
    ]


async def test_the_extractive_engine_is_a_summarizer() -> None:
    summary = await ExtractiveSummarizer().summarize(
        TEAM_MEETING, summary_type="team_meeting", text_format="markdown", word_limit=200
    )
    assert summary == summarize_extractive(
        TEAM_MEETING, summary_type="team_meeting", text_format="markdown", word_limit=200
    )


# --- the LLM engine against a real chat-completions server on loopback ------------------

API_KEY = "sk-test-do-not-log-7f3a"


@dataclass
class ChatServer:
    """An OpenAI-compatible `/v1/chat/completions` on 127.0.0.1 whose answer a test sets."""

    url: str = ""
    answer: Callable[[], web.StreamResponse | Any] = lambda: None
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def reply(self, content: str) -> None:
        self.answer = lambda: web.json_response(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
        )


@pytest.fixture
async def chat_server() -> AsyncIterator[ChatServer]:
    server = ChatServer()

    async def completions(request: web.Request) -> web.StreamResponse:
        server.requests.append((dict(request.headers), await request.json()))
        answer = server.answer()
        if asyncio.iscoroutine(answer):
            answer = await answer
        return answer

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}/v1"
    yield server
    await runner.cleanup()


def engine(url: str, timeout_secs: float = 5.0) -> LLMSummarizer:
    return LLMSummarizer(url, "tiny-summarizer", api_key=API_KEY, timeout_secs=timeout_secs)


GOOD_ANSWER = (
    "## Meeting Summary\n\n### Key Discussion Points\n- The billing migration to Postgres.\n\n"
    "### Action Items\n- @Bob: write the invoices migration script by Friday\n\n"
    "### Decisions Made\n- Migrate in two steps."
)


async def test_a_good_llm_answer_is_used(
    chat_server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    chat_server.reply(GOOD_ANSWER)
    caplog.set_level(logging.DEBUG)
    summary = await summarize_with_fallback(
        TEAM_MEETING,
        summary_type="team_meeting",
        text_format="markdown",
        word_limit=150,
        engine=engine(chat_server.url),
    )
    assert summary == GOOD_ANSWER + "\n"
    [(headers, body)] = chat_server.requests
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert body["model"] == "tiny-summarizer"
    prompt = "\n".join(message["content"] for message in body["messages"])
    assert "at most 150 words" in prompt and "about 120" in prompt
    assert "### Action Items" in prompt and "### Decisions Made" in prompt
    assert "Bob: The invoices table schema changes" in prompt  # the transcript, with speakers
    assert "falling back" not in caplog.text and API_KEY not in caplog.text


async def test_plain_text_from_the_llm_loses_its_markdown(chat_server: ChatServer) -> None:
    chat_server.reply("```\n" + GOOD_ANSWER + "\n2. **Backfill** the old invoices.\n```")
    summary = await summarize_with_fallback(
        TEAM_MEETING,
        summary_type="team_meeting",
        text_format="plain_text",
        word_limit=150,
        engine=engine(chat_server.url),
    )
    assert summary.splitlines()[0] == "Meeting Summary"
    assert "@Bob: write the invoices migration script by Friday" in summary.splitlines()
    assert "Backfill the old invoices." in summary.splitlines()
    assert not any(_MARKDOWN_LINE_START.match(line) for line in summary.splitlines())
    prompt = chat_server.requests[0][1]["messages"][0]["content"]
    assert "no markdown" in prompt


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _slow() -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({"choices": [{"message": {"content": GOOD_ANSWER}}]})


FAILURES: dict[str, tuple[Callable[[ChatServer], None], str]] = {
    "server error": (lambda s: setattr(s, "answer", lambda: web.Response(status=503)), "HTTP 503"),
    "not found": (lambda s: setattr(s, "answer", lambda: web.Response(status=404)), "HTTP 404"),
    "bad json": (
        lambda s: setattr(
            s, "answer", lambda: web.Response(text="{not json", content_type="application/json")
        ),
        "not JSON",
    ),
    "no choices": (
        lambda s: setattr(s, "answer", lambda: web.json_response({"choices": []})),
        "no choices[0].message.content",
    ),
    "empty answer": (lambda s: s.reply("   \n"), "empty answer"),
    "too long": (lambda s: s.reply("word " * 151), "151 words, over the limit of 150"),
    "timeout": (lambda s: setattr(s, "answer", _slow), "no answer within 0.3 s"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_each_llm_failure_falls_back_with_the_reason_logged(
    failure: str, chat_server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    arrange, reason = FAILURES[failure]
    arrange(chat_server)
    caplog.set_level(logging.DEBUG)
    summary = await summarize_with_fallback(
        TEAM_MEETING,
        summary_type="team_meeting",
        text_format="markdown",
        word_limit=150,
        # Only the timeout case waits for the timeout: on a busy machine 0.3 s is not
        # enough for the others' answers, which must fail for their own reason.
        engine=engine(chat_server.url, timeout_secs=0.3 if failure == "timeout" else 10),
    )
    assert summary == summarize_extractive(
        TEAM_MEETING, summary_type="team_meeting", text_format="markdown", word_limit=150
    )
    assert len(chat_server.requests) == 1
    assert reason in caplog.text and "using the extractive summary instead" in caplog.text
    assert API_KEY not in caplog.text


async def test_an_unreachable_endpoint_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    summary = await summarize_with_fallback(
        STANDUP,
        summary_type="daily_standup",
        text_format="plain_text",
        word_limit=150,
        engine=engine(f"http://127.0.0.1:{_free_port()}/v1"),
    )
    assert summary == summarize_extractive(
        STANDUP, summary_type="daily_standup", text_format="plain_text", word_limit=150
    )
    assert "request failed: ConnectError" in caplog.text
    assert API_KEY not in caplog.text


async def test_nothing_said_is_not_sent_to_the_llm(chat_server: ChatServer) -> None:
    chat_server.reply(GOOD_ANSWER)
    summary = await summarize_with_fallback(
        [],
        summary_type="team_meeting",
        text_format="markdown",
        word_limit=150,
        engine=engine(chat_server.url),
    )
    assert "No discussion was recorded." in summary and chat_server.requests == []


def test_the_llm_engine_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert summarizer_from_settings(Settings()) is None
    monkeypatch.setenv("SALON_SUMMARY_LLM_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("SALON_SUMMARY_LLM_MODEL", "qwen2.5-1.5b-instruct")
    monkeypatch.setenv("SALON_SUMMARY_LLM_API_KEY", API_KEY)
    monkeypatch.setenv("SALON_SUMMARY_LLM_TIMEOUT_SECS", "12")
    settings = Settings()
    llm = summarizer_from_settings(settings)
    assert llm is not None
    assert (llm.url, llm.model, llm.timeout_secs) == (
        "http://127.0.0.1:9/v1/chat/completions",
        "qwen2.5-1.5b-instruct",
        12,
    )
    assert API_KEY not in repr(llm) and API_KEY not in repr(settings)


def test_a_point_said_twice_is_summarized_once() -> None:
    restated = [
        *TEAM_MEETING,
        U(
            "Carol",
            "So again, the billing service migration is blocked by the schema changes in "
            "the invoices table.",
            95_000,
        ),
    ]
    summary = summarize_extractive(
        restated, summary_type="general", text_format="markdown", word_limit=400
    )
    assert summary.count("blocked by") == 1, summary


def test_cues_need_the_words_not_look_alikes() -> None:
    said = [
        U("Alice", "Well, the quarterly revenue report for the retail team looks healthy.", 0),
        U("Bob", "Have we agreed on the retail revenue targets for next quarter?", 5_000),
        U("Carol", "I feel ill about the retail revenue numbers from the north region.", 10_000),
        U("Dan", "We\u2019ll publish the retail revenue report to the board by Friday.", 15_000),
    ]
    summary = summarize_extractive(
        said, summary_type="team_meeting", text_format="markdown", word_limit=300
    )
    actions = section(summary, "Action Items")
    assert actions == ["- @Dan: We'll publish the retail revenue report to the board by Friday."]
    assert section(summary, "Decisions Made") == ["None noted."]


def test_a_long_meetings_summary_keeps_its_memory_bounded() -> None:
    """An eight-hour meeting (some 9,000 sentences, a vocabulary of thousands) is ranked
    within a bounded graph (`rank.GRAPH_SENTENCES`): dense sentence-by-sentence matrices
    took well over a gigabyte there, in the server's own process. Its decision and its
    action item are still found, wherever in the meeting they were said."""
    import random
    import tracemalloc

    from salon.ai.summary import rank

    words = random.Random(7)
    vocabulary = [f"{a}{b}{c}" for a in "bcdfgklmnprstvz" for b in "aeiou"
                  for c in ("ba", "ki", "lu", "me", "ni", "pe", "ro", "sa")]  # 600 words
    speakers = ("Alice", "Bob", "Carol", "Dan")
    utterances = [U(speakers[n % 4], " ".join(words.choice(vocabulary) for _ in range(12))
                    + ".", n * 3_000) for n in range(9_000)]
    utterances[6_000] = U("Carol", "We decided to move the launch to next month.", 18_000_000)
    utterances[7_500] = U("Alice", "Bob, please send the slides to the design team.", 22_500_000)
    tracemalloc.start()
    try:
        summary = summarize_extractive(utterances, summary_type="team_meeting",
                                       text_format="markdown", word_limit=500)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(utterances) > rank.GRAPH_SENTENCES
    assert peak < 150 * 2**20, f"{peak / 2**20:.0f} MB"
    assert "move the launch to next month" in summary
    assert "send the slides to the design team" in summary
