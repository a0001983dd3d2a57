"""Choosing the engine and falling back: a summary is always produced.

The operator's LLM endpoint is tried when configured; any failure (connection, timeout,
non-2xx, bad JSON, an empty or too-long answer, or a bug) is logged with its reason and
the extractive summary is returned instead, so a broken endpoint costs quality, never
the summary.
"""

import logging
from collections.abc import Sequence

from salon.ai.summary.base import Summarizer, SummaryType, TextFormat
from salon.ai.summary.extractive import ExtractiveSummarizer
from salon.ai.summary.llm import LLMSummarizer, SummaryEngineError
from salon.ai.summary.rank import content_words
from salon.ai.summary.sentences import split_utterances
from salon.ai.summary.transcript import Utterance
from salon.settings import Settings

log = logging.getLogger(__name__)


def summarizer_from_settings(settings: Settings) -> LLMSummarizer | None:
    """The LLM engine the operator configured (`SALON_SUMMARY_LLM_*`), or None."""
    if not settings.summary_llm_url:
        return None
    return LLMSummarizer(
        settings.summary_llm_url,
        settings.summary_llm_model,
        api_key=settings.summary_llm_api_key.get_secret_value(),
        timeout_secs=settings.summary_llm_timeout_secs,
    )


async def summarize_with_fallback(
    utterances: Sequence[Utterance],
    *,
    summary_type: SummaryType,
    text_format: TextFormat,
    word_limit: int,
    engine: Summarizer | None = None,
) -> str:
    """`engine`'s summary, or the extractive one when there is no engine or it fails.

    A transcript in which nothing was said is not sent out: the extractive engine's
    "No discussion was recorded." is the honest answer, and a model might invent one.
    """
    said = any(content_words(sentence.text) for sentence in split_utterances(utterances))
    if engine is not None and said:
        try:
            return await engine.summarize(
                utterances,
                summary_type=summary_type,
                text_format=text_format,
                word_limit=word_limit,
            )
        except SummaryEngineError as error:
            reason = error.reason
        except Exception as error:  # a bug in an engine must not cost the summary
            log.exception("summary engine %r raised", engine)
            reason = f"{type(error).__name__}: {error}"
        log.warning(
            "summary engine %r failed (%s); using the extractive summary instead", engine, reason
        )
    return await ExtractiveSummarizer().summarize(
        utterances, summary_type=summary_type, text_format=text_format, word_limit=word_limit
    )
