"""The live view of an app's rooms (a salon extension for the dashboard): who is in each
live session, who waits, who asks for the stage."""

from typing import Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import StageStatus, Timestamp, closed


@closed
class LivePeer(TypedDict):
    peer_id: str
    participant_id: str
    custom_participant_id: str
    name: str
    preset_name: str
    stage_status: StageStatus
    audio: bool
    video: bool
    screenshare: bool
    #: A hidden participant (a recorder, a transcriber): peers do not see it.
    hidden: bool
    joined_at: Timestamp | None
    hand_raised_at: Timestamp | None


@closed
class WaitingPeer(TypedDict):
    peer_id: str
    participant_id: str
    custom_participant_id: str
    name: str
    preset_name: str


@closed
class LiveSession(TypedDict):
    meeting_id: str
    title: str | None
    #: `null` while only the waiting room is occupied (nobody admitted yet).
    session_id: str | None
    started_at: Timestamp | None
    #: Joined peers, hidden ones included; `peers` lists at most `peer_limit` of them.
    peer_count: int
    max_concurrent_participants: int
    peers: list[LivePeer]
    waiting: list[WaitingPeer]
    stage_requests: list[WaitingPeer]
    recording: bool


@closed
class LiveSessions(TypedDict):
    sessions: list[LiveSession]
    #: When this view was taken (server clock).
    taken_at: Timestamp


@closed
class WaitingDecision(TypedDict):
    action: Literal["admit", "deny"]
    peer_ids: list[str]
