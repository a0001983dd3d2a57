"""What a summarizer reads: who said what, when.

Kept deliberately small so that any transcript (the post-meeting Whisper transcript, live
captions, a test fixture) can be adapted to it with a one-line comprehension.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Utterance:
    """One stretch of speech by one participant.

    `speaker` is the display name the summary attributes action items to (`@speaker`);
    `start_ms` orders utterances on the session's clock, so the summary can tell the
    meeting in the order things were said.
    """

    speaker: str
    text: str
    start_ms: int = 0
