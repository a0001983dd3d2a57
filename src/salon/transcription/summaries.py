"""From a stored transcript to a summary: the options a meeting asks for, and the
post-meeting transcript read back as the summarizer's `Utterance`s.

The summary is made from the transcript's JSON file (not from the job's memory), so a
summary can be asked for any time after the transcript is READY, by another process
or after a restart.
"""

import json
from dataclasses import dataclass
from typing import Any

from salon.ai.summary import Utterance

#: RealtimeKit's defaults (`ai_config.summarization`).
DEFAULTS = {"summary_type": "general", "text_format": "markdown", "word_limit": 500}
#: The file's extension per `text_format`.
EXTENSIONS = {"markdown": "md", "plain_text": "txt"}


@dataclass(frozen=True)
class SummaryOptions:
    summary_type: str
    text_format: str
    word_limit: int

    @classmethod
    def of_meeting(cls, ai_config: dict[str, Any] | None) -> "SummaryOptions":
        """The meeting's `ai_config.summarization`, RealtimeKit's defaults filled in."""
        given = (ai_config or {}).get("summarization") or {}
        merged = {**DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
        return cls(str(merged["summary_type"]), str(merged["text_format"]),
                   int(merged["word_limit"]))

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.text_format, "txt")

    def as_json(self) -> dict[str, Any]:
        return {"summary_type": self.summary_type, "text_format": self.text_format,
                "word_limit": self.word_limit}


def utterances_from_json(text: str) -> list[Utterance]:
    """The JSON transcript (`[{startTime, sentence, peerData: {displayName, …}}]`) as
    utterances, each attributed to the speaker's display name (the summary's `@Name`)."""
    lines = json.loads(text)
    return [Utterance(speaker=str((line.get("peerData") or {}).get("displayName") or ""),
                      text=str(line.get("sentence") or ""),
                      start_ms=int(line.get("startTime") or 0))
            for line in lines]
