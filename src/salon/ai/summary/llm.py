"""The optional engine: any OpenAI-compatible chat-completions endpoint, set by the operator.

A language model paraphrases and so reads better than quoted sentences, but it may answer
slowly, badly or not at all. This engine therefore checks what comes back (a non-empty
message, within `word_limit`, no markdown when plain text was asked for) and raises
`SummaryEngineError` with a reason otherwise; `fallback.py` turns that into the extractive
summary. The API key goes only into the `Authorization` header, never into a message.
"""

import json
import re
from collections.abc import Sequence

import httpx

from salon.ai.summary.base import SummaryType, TextFormat, count_words
from salon.ai.summary.render import EMPTY_SECTION
from salon.ai.summary.templates import TEMPLATES
from salon.ai.summary.transcript import Utterance

#: A transcript longer than this is cut (a small model's context is the limit, not ours).
MAX_TRANSCRIPT_CHARS = 48_000

_FENCE = re.compile(r"^```[\w-]*\n(.*?)\n?```$", re.DOTALL)
_LINE_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|[-*+•]\s+|>\s*|\d+[.)]\s+)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")


class SummaryEngineError(Exception):
    """The engine gave no usable summary; `reason` says why, for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def template_outline(summary_type: SummaryType, text_format: TextFormat) -> str:
    """The headings the model is asked to fill, as they must appear in its answer."""
    template = TEMPLATES[summary_type]
    if text_format == "markdown":
        lines = [f"## {template.title}", *(f"### {s.heading}" for s in template.sections)]
    else:
        lines = [template.title, *(f"{s.heading}:" for s in template.sections)]
    return "\n".join(lines)


def format_transcript(utterances: Sequence[Utterance]) -> str:
    """`[mm:ss] Speaker: text` lines in time order, cut at MAX_TRANSCRIPT_CHARS."""
    lines = []
    for u in sorted(utterances, key=lambda u: u.start_ms):
        seconds = max(u.start_ms, 0) // 1000
        lines.append(f"[{seconds // 60:02d}:{seconds % 60:02d}] {u.speaker}: {u.text.strip()}")
    text = "\n".join(lines)
    return text if len(text) <= MAX_TRANSCRIPT_CHARS else text[:MAX_TRANSCRIPT_CHARS] + "\n[…]"


def build_messages(
    utterances: Sequence[Utterance],
    *,
    summary_type: SummaryType,
    text_format: TextFormat,
    word_limit: int,
) -> list[dict[str, str]]:
    """The chat messages: the rules and the template, then the transcript."""
    if text_format == "markdown":
        style = (
            "Write markdown with exactly these headings, in this order. Write items as "
            "'- ' bullets; write each action item as '- @Name: the action'."
        )
    else:
        style = (
            "Write plain text with no markdown at all: no '#', no '*', no '-' bullets, no "
            "bold. Use exactly these heading lines, in this order, and one item per line; "
            "write each action item as '@Name: the action'."
        )
    system = (
        "You summarize meeting transcripts. Use only what the transcript says; never invent "
        "names, decisions or tasks. "
        f"{style} Under a heading with nothing to report, write '{EMPTY_SECTION}'. "
        f"The whole answer, headings included, must be at most {word_limit} words "
        f"(a word is anything between spaces); aim for about {word_limit * 4 // 5}, since "
        "a longer answer is thrown away. Answer with the summary only.\n\n"
        f"{template_outline(summary_type, text_format)}"
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Transcript:\n{format_transcript(utterances)}"},
    ]


def to_plain_text(text: str) -> str:
    """Removes markdown a model used although plain text was asked for."""
    lines = [_EMPHASIS.sub("", _LINE_MARKUP.sub("", line)) for line in text.splitlines()]
    return "\n".join(lines)


class LLMSummarizer:
    """`Summarizer` backed by `POST {base_url}/chat/completions`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        timeout_secs: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout_secs = timeout_secs
        self._transport = transport

    def __repr__(self) -> str:  # no key in a repr that lands in a log
        return f"LLMSummarizer(url={self.url!r}, model={self.model!r})"

    async def summarize(
        self,
        utterances: Sequence[Utterance],
        *,
        summary_type: SummaryType,
        text_format: TextFormat,
        word_limit: int,
    ) -> str:
        messages = build_messages(
            utterances, summary_type=summary_type, text_format=text_format, word_limit=word_limit
        )
        answer = await self._complete(messages)
        return self._check(answer, text_format=text_format, word_limit=word_limit)

    async def _complete(self, messages: list[dict[str, str]]) -> str:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        body = {"model": self.model, "messages": messages, "temperature": 0}
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout_secs, transport=self._transport
            ) as client:
                response = await client.post(self.url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise SummaryEngineError(f"no answer within {self.timeout_secs:g} s") from None
        except httpx.HTTPError as error:
            raise SummaryEngineError(f"request failed: {type(error).__name__}") from None
        if not response.is_success:
            raise SummaryEngineError(f"HTTP {response.status_code}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SummaryEngineError("the answer is not JSON") from None
        except (KeyError, IndexError, TypeError):
            raise SummaryEngineError("the answer has no choices[0].message.content") from None
        if not isinstance(content, str):
            raise SummaryEngineError("the answer's message content is not text")
        return content

    @staticmethod
    def _check(answer: str, *, text_format: TextFormat, word_limit: int) -> str:
        text = answer.strip()
        fenced = _FENCE.match(text)
        if fenced:
            text = fenced.group(1).strip()
        if text_format == "plain_text":
            text = to_plain_text(text).strip()
        if not text:
            raise SummaryEngineError("empty answer")
        words = count_words(text)
        if words > word_limit:
            # Cutting a summary mid-section would drop its action items or decisions
            # silently; the extractive summary is the honest alternative.
            raise SummaryEngineError(f"answer has {words} words, over the limit of {word_limit}")
        return text + "\n"
