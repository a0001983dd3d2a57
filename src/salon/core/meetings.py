"""Meeting settings: fields, defaults and bounds (reference §3, §8.2).

A meeting is a persistent room with no schedule. Its settings are validated here; PATCH
merges nested configs (`ai_config`, `recording_config`) into what is stored, PUT
replaces everything with the body and defaults for what the body leaves out.
"""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from salon.ai.languages import UnsupportedLanguage, whisper_language
from salon.core.merge import deep_merge
from salon.core.schema import Flag, Int, Strict, text

MeetingStatus = Literal["ACTIVE", "INACTIVE"]
KeepAlive = Annotated[Int, Field(ge=60, le=600)]
Region = Literal["ap-south-1", "ap-southeast-1", "us-east-1", "eu-central-1"]


def _known_language(code: str) -> str:
    """RealtimeKit's codes (en-US, en-IN, de, hi, sv, ru, pl, el, fr, nl) and Whisper's
    (about 100: "en", "es", "ja", ...) are both accepted, as RealtimeKit's own docs use
    both; whether the installed model can do it is checked on save (api/routes/
    meetings.py), since that depends on the server's settings."""
    try:
        whisper_language(code)
    except UnsupportedLanguage as error:
        raise ValueError(str(error)) from None
    return code


TranscriptionLanguage = Annotated[text(35, min_length=1, name=True),
                                  AfterValidator(_known_language)]
SummaryType = Literal[
    "general",
    "team_meeting",
    "sales_call",
    "client_check_in",
    "interview",
    "daily_standup",
    "one_on_one_meeting",
    "lecture",
    "code_review",
]


class Transcription(Strict):
    language: TranscriptionLanguage = "en-US"
    keywords: list[text(100, min_length=1, name=True)] = Field(
        default_factory=list, max_length=100
    )
    profanity_filter: Flag = False


class Summarization(Strict):
    word_limit: Annotated[Int, Field(ge=150, le=1000)] = 500
    text_format: Literal["plain_text", "markdown"] = "markdown"
    summary_type: SummaryType = "general"


class AIConfig(Strict):
    transcription: Transcription = Transcription()
    summarization: Summarization = Summarization()


# --- recording_config (§8.2, §8.3) ------------------------------------------------------

Pixels = Annotated[Int, Field(ge=1, le=1920)]
Url = text(2048, pattern=r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")


class WatermarkSize(Strict):
    width: Annotated[Int, Field(ge=1)] | None = None
    height: Annotated[Int, Field(ge=1)] | None = None


class Watermark(Strict):
    url: Url | None = None
    size: WatermarkSize | None = None
    position: Literal["left top", "right top", "left bottom", "right bottom"] = "left top"


class RecordingVideoConfig(Strict):
    codec: Literal["H264", "VP8", "VP9"] = "H264"
    width: Pixels = 1280
    height: Pixels = 720
    export_file: Flag = True
    watermark: Watermark | None = None


class RecordingAudioConfig(Strict):
    codec: Literal["MP3", "AAC"] = "AAC"
    channel: Literal["mono", "stereo"] = "stereo"
    export_file: Flag = True


Label = text(name=True)
FreeText = text()


class StorageConfig(Strict):
    #: `cloudflare` (R2) is in RealtimeKit's storage guide though not in its API enum.
    type: Literal["aws", "azure", "cloudflare", "digitalocean", "gcs", "sftp"]
    access_key: FreeText | None = None
    secret: FreeText | None = None
    bucket: Label | None = None
    region: Label | None = None
    path: FreeText | None = None
    auth_method: Literal["KEY", "PASSWORD"] | None = None
    username: Label | None = None
    password: FreeText | None = None
    host: Label | None = None
    port: Annotated[Int, Field(ge=1, le=65535)] | None = None
    private_key: FreeText | None = None


#: Storage fields that are written but never read back (reference §8.3).
STORAGE_SECRETS = ("access_key", "secret", "password", "private_key")


class BucketConfig(Strict):
    enabled: Flag


class LiveStreamingConfig(Strict):
    rtmp_url: Url | None = None


class RecordingConfig(Strict):
    max_seconds: Annotated[Int, Field(ge=60, le=86400)] = 86400
    file_name_prefix: text(100, pattern=r"^[A-Za-z0-9_-]*$") | None = None
    video_config: RecordingVideoConfig = RecordingVideoConfig()
    audio_config: RecordingAudioConfig = RecordingAudioConfig()
    storage_config: StorageConfig | None = None
    realtimekit_bucket_config: BucketConfig = BucketConfig(enabled=True)
    live_streaming_config: LiveStreamingConfig | None = None


def public_recording_config(config: dict[str, Any]) -> dict[str, Any]:
    """The stored recording config as callers may read it: storage secrets removed."""
    storage = config.get("storage_config")
    if not storage:
        return config
    visible = {k: v for k, v in storage.items() if k not in STORAGE_SECRETS}
    return {**config, "storage_config": visible}


# --- the meeting ------------------------------------------------------------------------


class MeetingSettings(Strict):
    """Create (M2) and replace (M5) bodies: every field optional, defaults as RealtimeKit's."""

    title: text(1000) | None = None
    preferred_region: Region | None = None
    #: Nullable, as the SDK types it: null means the default.
    record_on_start: Flag | None = False
    live_stream_on_start: Flag | None = False
    persist_chat: Flag = False
    summarize_on_end: Flag = False
    transcribe_on_end: Flag = False
    session_keep_alive_time_in_secs: KeepAlive = 60
    ai_config: AIConfig = AIConfig()
    recording_config: RecordingConfig = RecordingConfig()

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, body: Any) -> Any:
        # The SDK types record_on_start and live_stream_on_start as nullable: null = default.
        if isinstance(body, dict):
            nullable = ("record_on_start", "live_stream_on_start")
            body = {k: v for k, v in body.items() if not (v is None and k in nullable)}
        return body


class MeetingPatch(MeetingSettings):
    """Update (M4) body: adds `status`; validated after merging into the stored meeting."""

    status: MeetingStatus = "ACTIVE"


def patched(current: dict[str, Any], patch: dict[str, Any]) -> MeetingPatch:
    """Merge a partial update into the stored meeting fields and validate the whole."""
    return MeetingPatch.model_validate(deep_merge(current, patch))
