"""The profanity filter (`ai_config.transcription.profanity_filter`).

RealtimeKit does not say what its filter masks. Salon masks whole words from the small
English list below, with common inflections (-s, -es, -ed, -er, -ers, -ing, -y), keeping
the first letter: "damn" -> "d***". It is a word list, not a classifier: it misses
misspellings and other languages, and it never masks words that merely contain a
listed word ("hello", "scrap", "Dickens" stay as they are).
"""

import re

#: Masked words (lower case, stems; inflections are matched by the pattern).
WORDS: tuple[str, ...] = (
    "arse", "arsehole", "ass", "asshole", "bastard", "bitch", "bollocks", "bullshit",
    "crap", "cunt", "damn", "dick", "dickhead", "fuck", "fucker", "goddamn", "motherfucker",
    "piss", "prick", "shit", "shitty", "slut", "twat", "wanker", "whore",
)

_PATTERN = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, WORDS), key=len, reverse=True))
    + r")(?:s|es|ed|er|ers|ing|y)?\b",
    re.IGNORECASE,
)


def _mask(match: re.Match[str]) -> str:
    word = match.group(0)
    return word[0] + "*" * (len(word) - 1)


def mask_profanity(text: str) -> str:
    """`text` with every listed word masked after its first letter."""
    return _PATTERN.sub(_mask, text)
