"""The `Summarizer` interface every engine implements, and the words it is bounded by."""

from collections.abc import Sequence
from typing import Literal, Protocol

from salon.ai.summary.transcript import Utterance
from salon.core.meetings import SummaryType

#: `ai_config.summarization.text_format`.
TextFormat = Literal["plain_text", "markdown"]

__all__ = ["SummaryType", "TextFormat", "Summarizer", "count_words"]


def count_words(text: str) -> int:
    """Words as `word_limit` counts them: every whitespace-separated token of the output.

    Headings and markdown markers count too (`## Meeting Summary` is three words, a bullet's
    `-` is one), so a limit holds for the text a reader downloads, whatever its format.
    """
    return len(text.split())


class Summarizer(Protocol):
    """Turns a transcript into a summary following `ai_config.summarization`.

    Asynchronous because an engine may wait on a network endpoint (the LLM engine); the
    extractive engine answers at once. The result never has more than `word_limit` words
    as `count_words` counts them.
    """

    async def summarize(
        self,
        utterances: Sequence[Utterance],
        *,
        summary_type: SummaryType,
        text_format: TextFormat,
        word_limit: int,
    ) -> str: ...
