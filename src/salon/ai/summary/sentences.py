"""Splitting utterances into sentences with a regex, without NLTK's downloaded models.

A full stop ends a sentence only when whitespace and a likely sentence start follow it and
the word before it is not a known abbreviation or a single initial, so "Dr. Smith",
"e.g. the API", "3.5 percent" and "v2.1" stay whole.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from salon.ai.summary.transcript import Utterance

#: Lower-cased, without their final dot; multi-dot ones ("e.g") end at their last dot.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e approx dept est inc ltd co corp no fig "
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun "
    "a.m p.m u.s u.k misc cf al".split()
)

#: A run of terminal punctuation, closing quotes or brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"')\]]*\s+")
#: What may begin the next sentence: a capital, digit, quote, bracket or @mention.
_STARTS_SENTENCE = re.compile(r"[A-Z0-9\"'(\[@]")
_LAST_WORD = re.compile(r"(\S+)$")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence with its speaker, and its position in the meeting (`index`)."""

    index: int
    speaker: str
    text: str
    start_ms: int


def _is_abbreviation(before: str) -> bool:
    match = _LAST_WORD.search(before)
    if match is None:
        return False
    word = match.group(1).lower().strip("\"'([")
    if word in ABBREVIATIONS:
        return True
    # A single initial ("J. Doe") or a dotted acronym's inner part ("U.S.").
    return len(word) == 1 and word.isalpha()


def split_text(text: str) -> list[str]:
    """The sentences of one utterance, whitespace and apostrophes normalized.

    Curly apostrophes become straight ones so that the cues ("I'll", "we'll") match
    whichever a transcriber wrote.
    """
    text = " ".join(text.replace("\u2019", "'").split())
    sentences: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        end = boundary.end()
        if end >= len(text) or not _STARTS_SENTENCE.match(text, end):
            continue
        punctuation_at = boundary.start()
        if text[punctuation_at] == "." and _is_abbreviation(text[start:punctuation_at]):
            continue
        sentences.append(text[start:end].strip())
        start = end
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def split_utterances(utterances: Sequence[Utterance]) -> list[Sentence]:
    """Every sentence of the transcript in the order said (stable for equal start times)."""
    ordered = sorted(enumerate(utterances), key=lambda pair: (pair[1].start_ms, pair[0]))
    sentences: list[Sentence] = []
    for _, utterance in ordered:
        for text in split_text(utterance.text):
            sentences.append(
                Sentence(len(sentences), utterance.speaker.strip(), text, utterance.start_ms)
            )
    return sentences
