"""Recordings as the API answers them: the fields of the official SDK's recording
models (`cloudflare/types/realtime_kit/recording_*_response.py`), quirks included:
`start_reason.caller.user_Id`, the slimmer active-recording object, list items with
their `meeting` (no `ai_config`) and `storage_config` (no secrets)."""

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from salon.api.schemas.resources import MeetingBase, StorageView
from salon.realtime.messages.base import Timestamp, closed

Status = Literal["INVOKED", "RECORDING", "UPLOADING", "UPLOADED", "ERRORED", "PAUSED"]


@closed
class TrackFileUrl(TypedDict):
    download_url: str


@closed
class TrackLayerUrls(TypedDict):
    """One layer of a track recording's files (RealtimeKit's track-recording docs)."""

    layer_name: str
    #: File name → its link.
    download_urls: dict[str, TrackFileUrl]


@closed
class RecordingBase(TypedDict):
    """Active-recording, track-recording and the common part of every recording."""

    id: str
    status: Status
    invoked_time: Timestamp
    output_file_name: str
    started_time: Timestamp | None
    stopped_time: Timestamp | None
    #: Once UPLOADED: a signed link (composite), or per layer and file (track).
    download_url: str | list[TrackLayerUrls] | None
    #: Once UPLOADED, with `audio_config.export_file`.
    audio_download_url: str | None
    download_url_expiry: Timestamp | None
    #: Bytes, once UPLOADED (or of what an ERRORED recording kept).
    file_size: float | None
    session_id: str | None
    #: Seconds recorded, pauses excluded.
    recording_duration: int | None


@closed
class Caller(TypedDict):
    type: Literal["ORGANIZATION", "USER"]
    name: NotRequired[str]
    #: The participant's id, when a participant started it (RealtimeKit's spelling).
    user_Id: NotRequired[str]


@closed
class StartReason(TypedDict):
    reason: Literal["API_CALL", "RECORD_ON_START"]
    caller: Caller


@closed
class StopReason(TypedDict):
    #: MAX_SECONDS is salon's addition: the recording reached its `max_seconds`.
    reason: Literal["API_CALL", "INTERNAL_ERROR", "ALL_PEERS_LEFT", "MAX_SECONDS"]
    caller: NotRequired[Caller]


@closed
class Recording(RecordingBase):
    """Get-one, start and PUT."""

    start_reason: StartReason | None
    stop_reason: StopReason | None
    #: None: kept by this server.
    storage_config: StorageView | None


@closed
class ListedRecording(RecordingBase):
    meeting: MeetingBase
    storage_config: StorageView | None


@closed
class TrackRecordingStarted(TypedDict):
    recording: RecordingBase
