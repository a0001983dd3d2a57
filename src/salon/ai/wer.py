"""Word error rate: how far a transcript is from what was said.

Used by the tests and bench/transcription.py to judge the recognizer on speech whose
text is known. Both sides are normalized first (lower case, punctuation dropped,
"o'clock" kept as one word), so a comma or a capital is not an error.
"""

import re

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def words(text: str) -> list[str]:
    """The normalized words of `text`."""
    return _WORD.findall(text.lower().replace("’", "'"))


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions turning `reference` into `hypothesis`."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of `hypothesis` against `reference` (0 is perfect; can pass 1)."""
    ref = words(reference)
    if not ref:
        return 0.0 if not words(hypothesis) else 1.0
    return edit_distance(ref, words(hypothesis)) / len(ref)
