"""Requests of connected meetings (breakout rooms) shared by the realtime protocol and
the REST API, and how an assignment request becomes a plan (pure)."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from salon.core.room import Room, RoomError
from salon.core.room.connected import MAX_CHILDREN, assignable, round_robin
from salon.core.schema import Number, Strict, text

MeetingId = text(64, min_length=1, name=True)
PeerId = text(64, min_length=1, name=True)
Title = text(1000) | None


class NewMeeting(Strict):
    title: Title = None


class Create(Strict):
    """Create connected meetings (rooms) under a parent: 1 to MAX_CHILDREN at once."""

    meetings: Annotated[list[NewMeeting], Field(min_length=1, max_length=MAX_CHILDREN)]


class Assign(Strict):
    model_config = ConfigDict(json_schema_extra={"if": {"properties": {
        "mode": {"const": "manual"}}}, "then": {"required": ["assignments"], "properties": {
            "assignments": {"type": "object", "minProperties": 1}}}})

    mode: Literal["round_robin", "manual"]
    #: round_robin: the rooms to deal into (default: every child room).
    meeting_ids: Annotated[list[MeetingId], Field(max_length=MAX_CHILDREN)] | None = None
    #: manual: `{meeting_id: [peer_ids]}`.
    assignments: dict[MeetingId, Annotated[list[PeerId], Field(max_length=1000)]] | None = None

    @model_validator(mode="after")
    def _manual_needs_assignments(self) -> "Assign":
        if self.mode == "manual" and not self.assignments:
            raise ValueError("mode 'manual' needs 'assignments': {meeting_id: [peer_ids]}")
        return self


class Timer(Strict):
    #: Close every room this many seconds from now (1 s to 24 h); null cancels the timer.
    close_in_secs: Annotated[Number, Field(ge=1, le=86400)] | None
    #: `connected_meetings.closing` goes out this many seconds before.
    warn_secs: Annotated[Number, Field(ge=0, le=3600)] = 60


def assignment_plan(request: Assign, children: list[str], parent: Room | None,
                    by: str | None) -> dict[str, list[str]]:
    """`{meeting_id: [peer_ids]}`: as given (manual), or the parent's assignable peers
    dealt into the chosen rooms in turn (round robin)."""
    if request.mode == "manual":
        return dict(request.assignments or {})
    rooms = list(request.meeting_ids) if request.meeting_ids else children
    unknown = [r for r in rooms if r not in children]
    if unknown:
        raise RoomError("NOT_FOUND", f"No connected meeting {unknown[0]} here.")
    return round_robin(assignable(parent, by) if parent is not None else [], rooms)
