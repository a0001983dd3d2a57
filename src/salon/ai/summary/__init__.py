"""Meeting summaries following `ai_config.summarization`: an extractive engine with no
model weights, an optional OpenAI-compatible LLM engine, and the fallback between them."""

from salon.ai.summary.base import Summarizer, SummaryType, TextFormat, count_words
from salon.ai.summary.extractive import ExtractiveSummarizer, summarize_extractive
from salon.ai.summary.fallback import summarize_with_fallback, summarizer_from_settings
from salon.ai.summary.llm import LLMSummarizer, SummaryEngineError
from salon.ai.summary.transcript import Utterance

__all__ = [
    "ExtractiveSummarizer",
    "LLMSummarizer",
    "SummaryEngineError",
    "Summarizer",
    "SummaryType",
    "TextFormat",
    "Utterance",
    "count_words",
    "summarize_extractive",
    "summarize_with_fallback",
    "summarizer_from_settings",
]
