"""Writing a summary out as markdown or plain text, within a hard word budget.

Words are counted as `count_words` counts them (whitespace-separated tokens, headings and
markers included). The layout's fixed words (title, headings, a "None noted." for each
section still empty) are reserved first; items then join their sections round-robin, most
important first, while they fit; a last guard cuts any excess, so the bound always holds.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from salon.ai.summary.base import TextFormat, count_words

EMPTY_SECTION = "None noted."
NO_DISCUSSION = "No discussion was recorded."
#: A single very long sentence (a monologue without full stops) is cut to this many words.
MAX_ITEM_WORDS = 50

_LEADING_MARKUP = re.compile(r"^(?:[#>*+\-•]+|\d+[.)])\s*")


@dataclass
class SectionDraft:
    """A section's heading, its candidates in priority order, and what was picked.

    A candidate is `(position, who, text)`: its place in the meeting (for time order),
    the person it is attributed to (empty: none), and the sentence.
    """

    heading: str
    candidates: list[tuple[int, str, str]]
    prose: bool = False
    limit: int = 8
    picked: list[tuple[int, str, str]] = field(default_factory=list)


def clean(text: str) -> str:
    """A sentence as an item: no markup of its own at the start, at most MAX_ITEM_WORDS."""
    text = _LEADING_MARKUP.sub("", text.strip())
    words = text.split()
    if len(words) > MAX_ITEM_WORDS:
        return " ".join(words[:MAX_ITEM_WORDS]).rstrip(",;:") + "…"
    return " ".join(words)


def _item_line(text_format: TextFormat, who: str, text: str) -> str:
    body = f"@{who}: {text}" if who else text
    return f"- {body}" if text_format == "markdown" else body


def _heading(text_format: TextFormat, heading: str, level: int) -> str:
    if text_format == "markdown":
        return f"{'#' * level} {heading}"
    return heading if level == 2 else f"{heading}:"


def _section_lines(text_format: TextFormat, section: SectionDraft) -> list[str]:
    picked = sorted(section.picked)
    if not picked:
        return [EMPTY_SECTION]
    if section.prose:
        return [" ".join(text for _, _, text in picked)]
    return [_item_line(text_format, who, text) for _, who, text in picked]


def layout(text_format: TextFormat, title: str, sections: Sequence[SectionDraft]) -> str:
    """The text of a summary from picked items (blank lines between blocks)."""
    blocks = [_heading(text_format, title, 2)]
    for section in sections:
        lines = _section_lines(text_format, section)
        blocks.append("\n".join([_heading(text_format, section.heading, 3), *lines]))
    return "\n\n".join(blocks) + "\n"


def _cost(text_format: TextFormat, section: SectionDraft, who: str, text: str) -> int:
    if section.prose:
        return count_words(text)
    return count_words(_item_line(text_format, who, text))


def fill(text_format: TextFormat, title: str, sections: list[SectionDraft], word_limit: int) -> str:
    """Picks items round-robin across sections while the whole stays within `word_limit`."""
    budget = word_limit - count_words(layout(text_format, title, sections))
    queues = [list(section.candidates) for section in sections]
    used: set[int] = set()  # a sentence appears once, in the first section to pick it
    progress = True
    while progress:
        progress = False
        for section, queue in zip(sections, queues, strict=True):
            while queue and len(section.picked) < section.limit:
                position, who, text = queue.pop(0)
                if position in used:
                    continue
                cost = _cost(text_format, section, who, text)
                # A section's first item frees the words of its "None noted.".
                freed = count_words(EMPTY_SECTION) if not section.picked else 0
                if cost <= budget + freed:
                    section.picked.append((position, who, text))
                    used.add(position)
                    budget -= cost - freed
                    progress = True
                    break
    return enforce_limit(layout(text_format, title, sections), word_limit)


def enforce_limit(text: str, word_limit: int) -> str:
    """Cuts text after `word_limit` words, keeping its lines: the bound is never broken."""
    if count_words(text) <= word_limit:
        return text
    kept: list[str] = []
    remaining = max(word_limit, 0)
    for line in text.splitlines():
        words = line.split()
        if len(words) <= remaining:
            kept.append(line)
            remaining -= len(words)
            continue
        if remaining > 0:
            kept.append(" ".join(words[:remaining]))
        break
    return "\n".join(kept).rstrip() + "\n"


def no_discussion(text_format: TextFormat, title: str, word_limit: int) -> str:
    """The honest summary of a meeting where nothing was said."""
    return enforce_limit(f"{_heading(text_format, title, 2)}\n\n{NO_DISCUSSION}\n", word_limit)
