"""Sessions (S1–S5), who was in them, the peer report, and daywise analytics (AN1)."""

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from salon.realtime.messages.base import Timestamp, closed

#: A transcript's or summary's status.
JobStatus = Literal["PROCESSING", "READY", "FAILED"]


@closed
class Session(TypedDict):
    id: str
    #: The meeting's id.
    associated_id: str
    meeting_display_name: str
    type: Literal["meeting"]
    status: Literal["LIVE", "ENDED"]
    #: 0 once ENDED.
    live_participants: int
    max_concurrent_participants: int
    minutes_consumed: float
    #: The app's id (RealtimeKit's name for it).
    organization_id: str
    started_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    meta: dict[str, Any]
    #: Salon's addition: the session's post-meeting transcript (docs/transcription.md),
    #: null when none was made.
    transcript_status: JobStatus | None
    #: Salon's addition: the session's summary (docs/summaries.md), null when none was
    #: asked for.
    summary_status: JobStatus | None
    #: Once ENDED.
    ended_at: NotRequired[Timestamp]
    #: With `include_breakout_rooms=true`: the sessions of its connected meetings.
    breakout_rooms: NotRequired[list["Session"]]


@closed
class SessionList(TypedDict):
    sessions: list[Session]


@closed
class PeerEvent(TypedDict):
    id: str
    event_name: str
    minutes_consumed: float
    participant_id: str
    peer_id: str
    session_id: str
    socket_session_id: str | None
    preset_view_type: str | None
    created_at: Timestamp
    updated_at: Timestamp


@closed
class SessionParticipant(TypedDict):
    #: The peer's id (`view=raw`), or the participant's first peer (`consolidated`).
    id: str
    #: The participant's id.
    user_id: str
    custom_participant_id: str
    display_name: str
    preset_name: str
    joined_at: Timestamp
    left_at: Timestamp | None
    #: Minutes.
    duration: float
    created_at: Timestamp
    updated_at: Timestamp
    #: With `include_peer_events=true`.
    peer_events: NotRequired[list[PeerEvent]]


@closed
class SessionParticipantList(TypedDict):
    participants: list[SessionParticipant]


@closed
class OneSessionParticipant(TypedDict):
    participant: SessionParticipant


@closed
class PeerReportEvent(TypedDict):
    name: str
    timestamp: Timestamp


@closed
class PeerReportMetadata(TypedDict):
    events: list[PeerReportEvent]
    room_view_type: str
    sdk_name: Literal["salon"]


@closed
class PeerReportBody(TypedDict):
    metadata: PeerReportMetadata
    #: Always empty: salon keeps no media quality statistics.
    quality: dict[str, Any]


@closed
class PeerStats(TypedDict):
    events: list[PeerReportEvent]


@closed
class PeerReportParticipant(SessionParticipant):
    role: str
    session_id: str
    peer_report: PeerReportBody
    peer_stats: PeerStats
    quality_stats: dict[str, Any]


@closed
class PeerReport(TypedDict):
    participant: PeerReportParticipant


@closed
class SessionDay(TypedDict):
    day: str
    total_sessions: int
    total_session_minutes: float


@closed
class SessionStats(TypedDict):
    sessions_count: int
    sessions_minutes_consumed: float
    day_stats: list[SessionDay]


@closed
class RecordingDay(TypedDict):
    day: str
    total_recordings: int
    total_recording_minutes: int


@closed
class RecordingStats(TypedDict):
    recording_count: int
    recording_minutes_consumed: float
    day_stats: list[RecordingDay]


@closed
class Daywise(TypedDict):
    session_stats: SessionStats
    recording_stats: RecordingStats


@closed
class ChatDownload(TypedDict):
    chat_download_url: str
    chat_download_url_expiry: Timestamp


# RealtimeKit's case quirks, exactly: the transcript answer mixes `sessionId` with
# snake_case, the summary answer is camelCase, and POST summary answers snake_case.
@closed
class TranscriptLink(TypedDict):
    sessionId: str
    #: A signed link to the file in the format asked for (CSV by default).
    transcript_download_url: str
    transcript_download_url_expiry: Timestamp


@closed
class SummaryLink(TypedDict):
    sessionId: str
    #: A signed link to the summary: `.md` (markdown) or `.txt` (plain_text).
    summaryDownloadUrl: str
    summaryDownloadUrlExpiry: Timestamp


@closed
class SummaryJob(TypedDict):
    session_id: str
    #: Always PROCESSING: queued, or already being made (READY or FAILED after it ran:
    #: GET …/summary, or the session's `summary_status`).
    status: Literal["PROCESSING"]
