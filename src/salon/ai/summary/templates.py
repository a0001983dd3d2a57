"""The shape of a summary per `summary_type`: a title and its sections.

`team_meeting` is RealtimeKit's published sample (`## Meeting Summary` / `### Key Discussion
Points` / `### Action Items` / `### Decisions Made`); the other types keep that spine and
swap in the sections a reader of that kind of meeting looks for.
"""

import re
from dataclasses import dataclass
from typing import Literal

from salon.ai.summary import cues
from salon.core.meetings import SummaryType

#: How a section is filled:
#: "overview" — the most central sentences as one paragraph;
#: "points" — the most central sentences not used elsewhere, one per line;
#: "actions" — action-item cues (`cue`, else `cues.ACTION`), each attributed to its
#:   assignee (`@Alice: …`);
#: "cue" — sentences matching `cue`, attributed to their speaker when `attributed`.
SectionKind = Literal["overview", "points", "actions", "cue"]


@dataclass(frozen=True)
class Section:
    heading: str
    kind: SectionKind
    cue: re.Pattern[str] | None = None
    attributed: bool = False


@dataclass(frozen=True)
class Template:
    title: str
    sections: tuple[Section, ...]


_POINTS = Section("Key Discussion Points", "points")
_ACTIONS = Section("Action Items", "actions")
_DECISIONS = Section("Decisions Made", "cue", cues.DECISION)
_QUESTIONS = Section("Open Questions", "cue", cues.QUESTION, attributed=True)
_NEXT_STEPS = Section("Next Steps", "actions")

TEMPLATES: dict[SummaryType, Template] = {
    "general": Template(
        "Meeting Summary",
        (Section("Summary", "overview"), Section("Key Points", "points"), _ACTIONS, _DECISIONS),
    ),
    "team_meeting": Template("Meeting Summary", (_POINTS, _ACTIONS, _DECISIONS)),
    "daily_standup": Template(
        "Daily Stand-up Summary",
        (
            Section("Yesterday", "cue", cues.DONE, attributed=True),
            Section("Today", "cue", cues.NEXT, attributed=True),
            Section("Blockers", "cue", cues.BLOCKER, attributed=True),
            _ACTIONS,
        ),
    ),
    "sales_call": Template(
        "Sales Call Summary",
        (
            Section("Overview", "overview"),
            Section("Customer Needs", "cue", cues.NEEDS, attributed=True),
            Section("Objections and Concerns", "cue", cues.CONCERNS, attributed=True),
            _DECISIONS,
            _NEXT_STEPS,
        ),
    ),
    "client_check_in": Template(
        "Client Check-in Summary",
        (
            Section("Overview", "overview"),
            Section("Progress", "cue", cues.PROGRESS, attributed=True),
            Section("Client Feedback and Concerns", "cue", cues.CONCERNS, attributed=True),
            _DECISIONS,
            _NEXT_STEPS,
        ),
    ),
    "interview": Template(
        "Interview Summary",
        (
            Section("Overview", "overview"),
            Section("Questions Asked", "cue", cues.QUESTION, attributed=True),
            Section("Candidate Highlights", "cue", cues.STRENGTH, attributed=True),
            _NEXT_STEPS,
        ),
    ),
    "one_on_one_meeting": Template(
        "One-on-One Summary",
        (
            _POINTS,
            Section("Feedback", "cue", cues.FEEDBACK, attributed=True),
            _ACTIONS,
            _DECISIONS,
        ),
    ),
    "lecture": Template(
        "Lecture Summary",
        (
            Section("Overview", "overview"),
            Section("Key Concepts", "cue", cues.CONCEPT),
            Section("Key Points", "points"),
            _QUESTIONS,
        ),
    ),
    "code_review": Template(
        "Code Review Summary",
        (
            Section("Overview", "overview"),
            Section("Issues Found", "cue", cues.REVIEW_ISSUE, attributed=True),
            Section("Changes Requested", "actions", cues.REVIEW_CHANGE),
            _DECISIONS,
        ),
    ),
}
