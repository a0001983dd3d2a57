"""Recordings: the request bodies, their precedence over the meeting's `recording_config`,
and the lifecycle as a state machine (reference recording-and-ai §1.2–1.3, §6 "States").

INVOKED (queued, waiting for a recorder) → RECORDING (the first frame is in the file)
⇄ PAUSED → UPLOADING (stopped; the file is finalized and stored) → UPLOADED, or ERRORED
from any state. Only plain data and rules here: the service applies them to rows.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from salon.core.errors import Conflict, InvalidRequest
from salon.core.meetings import (
    BucketConfig,
    LiveStreamingConfig,
    RecordingAudioConfig,
    RecordingVideoConfig,
    StorageConfig,
)
from salon.core.merge import deep_merge
from salon.core.schema import Flag, HttpUrl, Int, Strict, is_rtmp_url, text

Status = Literal["INVOKED", "RECORDING", "PAUSED", "UPLOADING", "UPLOADED", "ERRORED"]
Action = Literal["stop", "pause", "resume"]
#: Why a recording stopped. RealtimeKit's enum plus MAX_SECONDS (salon's addition: the
#: recording reached its `max_seconds`).
StopReason = Literal["API_CALL", "INTERNAL_ERROR", "ALL_PEERS_LEFT", "MAX_SECONDS"]
StartReason = Literal["API_CALL", "RECORD_ON_START"]

#: A recorder works on these: at most one of them per meeting unless
#: `allow_multiple_recordings`.
ACTIVE: frozenset[str] = frozenset({"INVOKED", "RECORDING", "PAUSED"})
#: Finished: nothing changes any more.
FINAL: frozenset[str] = frozenset({"UPLOADED", "ERRORED"})

#: Every change of status the lifecycle allows.
TRANSITIONS: dict[str, frozenset[str]] = {
    "INVOKED": frozenset({"RECORDING", "UPLOADING", "ERRORED"}),
    "RECORDING": frozenset({"PAUSED", "UPLOADING", "ERRORED"}),
    "PAUSED": frozenset({"RECORDING", "UPLOADING", "ERRORED"}),
    "UPLOADING": frozenset({"UPLOADED", "ERRORED"}),
    "UPLOADED": frozenset(),
    "ERRORED": frozenset(),
}

_ACTION_FROM: dict[str, frozenset[str]] = {
    "stop": ACTIVE,
    "pause": frozenset({"RECORDING"}),
    "resume": frozenset({"PAUSED"}),
}


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def after_action(current: str, action: Action, *, claimed: bool) -> Status:
    """The status an action leads to from `current`, or Conflict saying why not.

    Stopping a recording nobody has picked up yet (`claimed` false: it waits for a free
    recorder) ends it at once as ERRORED, since nothing was recorded; a picked-up one
    goes to UPLOADING while its recorder finalizes the file.
    """
    if current not in _ACTION_FROM[action]:
        allowed = " or ".join(sorted(_ACTION_FROM[action]))
        raise Conflict(f"Cannot {action} a recording that is {current}: only a recording "
                       f"that is {allowed} can be {_PAST[action]}.")
    if action == "pause":
        return "PAUSED"
    if action == "resume":
        return "RECORDING"
    return "UPLOADING" if claimed or current != "INVOKED" else "ERRORED"


_PAST = {"stop": "stopped", "pause": "paused", "resume": "resumed"}


# --- request bodies ------------------------------------------------------------------------

Prefix = text(100, pattern=r"^[A-Za-z0-9_-]*$")


class RtmpOutConfig(Strict):
    rtmp_url: text(2048) | None = None


class InteractiveConfig(Strict):
    type: Literal["ID3"] | None = None


class StartRecording(Strict):
    """POST /recordings (`RecordingStartRecordingsParams`)."""

    meeting_id: text(36, min_length=1)
    allow_multiple_recordings: Flag = False
    max_seconds: Annotated[Int, Field(ge=60, le=86400)] | None = None
    file_name_prefix: Prefix | None = None
    #: A web page to record instead of salon's layout (a recording app that joins the
    #: meeting with the recorder's token, given as `authToken`): `salon.recording.page`.
    url: HttpUrl | None = None
    video_config: RecordingVideoConfig | None = None
    audio_config: RecordingAudioConfig | None = None
    storage_config: StorageConfig | None = None
    realtimekit_bucket_config: BucketConfig | None = None
    rtmp_out_config: RtmpOutConfig | None = None
    interactive_config: InteractiveConfig | None = None
    #: The meeting's `recording_config` shape; accepted, not supported yet.
    live_streaming_config: LiveStreamingConfig | None = None


class TrackLayer(Strict):
    file_name_prefix: Prefix | None = None
    media_kind: Literal["audio"] | None = None


#: A track recording's layer name: it goes into file names.
LAYER_NAME = r"^[A-Za-z0-9_-]+$"


class StartTrackRecording(Strict):
    """POST /recordings/track (`RecordingStartTrackRecordingParams`)."""

    meeting_id: text(36, min_length=1)
    # participant ids or custom participant ids (up to 255 characters, as in S1)
    user_ids: Annotated[list[text(255, min_length=1)], Field(max_length=100)] | None = None
    # One layer for now: the document says so (`maxProperties`), and the service refuses
    # more with a sentence that says why (its files are named by that layer's prefix).
    layers: Annotated[dict[text(100, min_length=1, pattern=LAYER_NAME), TrackLayer],
                      Field(json_schema_extra={
                          "maxProperties": 1,
                          "propertyNames": {"minLength": 1, "maxLength": 100,
                                            "pattern": LAYER_NAME},
                          "additionalProperties": False})] | None = None
    #: RealtimeKit's docs list it (beta) though the SDK does not: taken as R1's.
    max_seconds: Annotated[Int, Field(ge=60, le=86400)] | None = None


class RecordingAction(Strict):
    action: Action


#: Fields of a start body that are not about the media (left out of the stored config).
_NOT_MEDIA = ("meeting_id", "allow_multiple_recordings")


def effective_config(body: StartRecording, meeting_config: dict[str, Any]) -> dict[str, Any]:
    """The config a recording runs with: the body's fields over the meeting's
    `recording_config` (nested configs merge) over the defaults the meeting holds.

    Refuses (400) what salon cannot record yet, naming the field to drop. A `url`
    (http or https, checked by the body's type) combines with every other field: the
    page only replaces the picture, so the codec, size, watermark, audio, storage, RTMP
    and interactive outputs all apply to it as to salon's layout.
    """
    given = body.model_dump(exclude_unset=True, exclude_none=True, exclude=set(_NOT_MEDIA))
    config = deep_merge(meeting_config, given)
    if is_interactive(config) and \
            (config.get("video_config") or {}).get("codec") in WEBM_CODECS:
        raise InvalidRequest("An interactive recording is HLS, which carries H.264: use "
                             "video_config.codec 'H264' with interactive_config.")
    for url in rtmp_urls(config):
        if not is_rtmp_url(url):
            raise InvalidRequest("rtmp_out_config.rtmp_url (and live_streaming_config."
                                 "rtmp_url) must be an rtmp:// or rtmps:// URL.")
        if (config.get("video_config") or {}).get("codec") in WEBM_CODECS:
            raise InvalidRequest("RTMP carries H.264: use video_config.codec 'H264' with "
                                 "rtmp_out_config (or the meeting's live_streaming_config).")
    return config


def rtmp_urls(config: dict[str, Any]) -> list[str]:
    """Where a composite recording is also pushed over RTMP while it records (the body's
    `rtmp_out_config.rtmp_url`, else the meeting's `live_streaming_config.rtmp_url`)."""
    url = ((config.get("rtmp_out_config") or {}).get("rtmp_url")
           or (config.get("live_streaming_config") or {}).get("rtmp_url"))
    return [url] if url else []


def output_file_name(prefix: str | None, meeting_id: str, at: datetime,
                     extension: str) -> str:
    """`{prefix or meeting id}_{UTC time}.{ext}`, safe as a file name everywhere."""
    stamp = at.strftime("%Y-%m-%dT%H-%M-%SZ")
    return f"{prefix or meeting_id}_{stamp}.{extension}"


#: The video codecs a composite records into WebM (H.264 goes into MP4).
WEBM_CODECS = ("VP8", "VP9")


def is_interactive(config: dict[str, Any]) -> bool:
    """An interactive recording (`interactive_config.type` "ID3"): HLS with timed
    metadata, delivered as a tar (`salon.recording.interactive`)."""
    return (config.get("interactive_config") or {}).get("type") == "ID3"


def extension_for(config: dict[str, Any]) -> str:
    if is_interactive(config):
        return "tar"
    codec = (config.get("video_config") or {}).get("codec")
    return "webm" if codec in WEBM_CODECS else "mp4"


def caller(kind: Literal["ORGANIZATION", "USER"], name: str | None = None,
           user_id: str | None = None) -> dict[str, Any]:
    """A reason's `caller` as stored and sent (RealtimeKit spells it `user_Id`)."""
    data: dict[str, Any] = {"type": kind}
    if name is not None:
        data["name"] = name
    if user_id is not None:
        data["user_Id"] = user_id
    return data


# --- the recorder participant ---------------------------------------------------------------

#: The preset of recorder participants, made in each app on first use.
RECORDER_PRESET_NAME = "salon_recorder"


def recorder_preset() -> dict[str, Any]:
    """A hidden participant that may subscribe to everything and publish nothing
    (RealtimeKit's `recorder_preset_v2`): never in peer lists, never waiting."""
    return {
        "name": RECORDER_PRESET_NAME,
        # The layout shows at most nine people (`salon.recording.layout`).
        "config": {"view_type": "GROUP_CALL", "max_video_streams": {"desktop": 9, "mobile": 9}},
        "permissions": {
            "is_recorder": True,
            "hidden_participant": True,
            "recorder_type": "RECORDER",
            "waiting_room_type": "SKIP",
            "media": {kind: {"can_produce": "NOT_ALLOWED"}
                      for kind in ("audio", "video", "screenshare")},
        },
    }
