"""Regex cues that sort sentences into sections: action items, decisions, blockers…

English only, like the bundled Whisper model. A cue only decides where a sentence goes;
which of the matching sentences make it into a short summary is left to the ranking.
"""

import re
from collections.abc import Collection

from salon.ai.summary.sentences import Sentence


def _cue(alternatives: str) -> re.Pattern[str]:
    """A case-insensitive regex of whole-word alternatives written `a | b | c`."""
    joined = "|".join(part.strip() for part in alternatives.split("|"))
    return re.compile(r"(?<![\w@])(?:" + joined + r")(?!\w)", re.IGNORECASE)


_DAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight)"

#: Somebody takes something on, or is asked to.
ACTION = _cue(
    rf"""
    i'll | i will | i'm going to | i am going to | i can take | i'll take | we'll |
    we will | we need to | we should | action items? | to-?do | can you | could you |
    would you | will you | please | follow up | let me | assigned to | owner |
    by {_DAYS} | by (?:the )?end of (?:the )?(?:day|week|month) | by eod |
    by next week | next steps? | @\w+
    """
)
ACTION_MENTION = re.compile(r"@(\w+)")

#: Something was settled.
DECISION = _cue(
    r"""
    we decided | we've decided | we have decided | decided to | decision is |
    final decision | agreed | we agree | let's go with | let us go with |
    we'll go with | we will go with | going with | approved | settled on |
    signed off | ship it | lgtm | looks good to me
    """
)

QUESTION = re.compile(r"\?\s*$")

#: Stand-up: what was done, what is next, what is in the way.
DONE = _cue(
    r"""
    yesterday | i finished | i've finished | i completed | i fixed | i worked on |
    i wrapped up | i merged | i shipped | i did | last week | i was working on |
    done with | got done
    """
)
NEXT = _cue(
    r"""
    today | i'll | i will | i'm going to | next up | i plan to | this week |
    i'm starting
    """
)
BLOCKER = _cue(
    r"""
    blocked | blocker | blocking | stuck | waiting on | waiting for | can't | cannot |
    no access | depends on | need help | problem | issue
    """
)

#: Sales and client calls.
NEEDS = _cue(
    r"""
    we need | we're looking for | looking for | requirements? | pain point |
    struggl\w* | our goal | we want | must have | use case
    """
)
CONCERNS = _cue(
    r"""
    concern\w* | worried | expensive | price | pricing | budget | risk\w* | not sure |
    competitor\w* | cost\w* | unhappy | frustrat\w* | complain\w* | delay\w* |
    problem | issue
    """
)
FEEDBACK = _cue(
    r"""
    feedback | great job | well done | happy with | love\w* | like how |
    could improve | improve\w* | suggest\w* | impressed | unhappy | frustrat\w*
    """
)
PROGRESS = _cue(
    r"""
    delivered | completed | finished | launched | milestone | on track | progress |
    shipped | released | rolled out | percent | %
    """
)

#: Code review: what is wrong with the change.
REVIEW_ISSUE = _cue(
    r"""
    bug | race | leak\w* | missing | broken | breaks | fails? | error | edge case |
    null | n\+1 | slow | security | vulnerab\w* | hard-?coded | typo | naming |
    test coverage | no tests? | doesn't handle
    """
)
REVIEW_CHANGE = _cue(
    r"""
    should | please | can you | could you | rename | refactor | extract |
    add (?:a |an )?tests? | split | move | remove | change | instead
    """
)

#: Interviews: what the candidate brings.
STRENGTH = _cue(
    r"""
    i built | i led | i designed | i managed | i worked | my experience | i've been |
    years | i was responsible | my role | i implemented | i learned
    """
)

#: Lectures: definitions and central claims.
CONCEPT = _cue(
    r"""
    is defined as | is called | means | refers to | the key | important | remember |
    in other words | the idea | principle | theorem | definition
    """
)


def assignee(sentence: Sentence, speakers: Collection[str]) -> str:
    """Who an action item is for: an @mention, a person addressed by name, else the speaker.

    "Bob, can you send the deck?" said by Alice is Bob's item; "I'll send it" is Alice's.
    """
    mention = ACTION_MENTION.search(sentence.text)
    if mention:
        return mention.group(1)
    addressed = re.match(r"\s*(?:ok(?:ay)?|so|and|alright)?,?\s*([A-Z][\w'-]*)\s*,", sentence.text)
    if addressed:
        name = addressed.group(1)
        for speaker in speakers:
            if speaker.split()[0:1] == [name] or speaker == name:
                return speaker
    return sentence.speaker


def strip_address(text: str, person: str) -> str:
    """Drops a leading "Bob, " or "@Bob " so the item reads as the action itself."""
    first = re.escape(person.split()[0]) if person.split() else ""
    pattern = rf"^\s*(?:ok(?:ay)?|so|and|alright)?,?\s*@?{first}\s*[,:]?\s+"
    stripped = re.sub(pattern, "", text, count=1, flags=re.IGNORECASE) if first else text
    return stripped[:1].upper() + stripped[1:] if stripped else text
