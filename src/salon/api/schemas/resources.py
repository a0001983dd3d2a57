"""Apps, meetings, participants, presets, webhooks and plugins as the API answers them:
the fields the official `cloudflare` SDK reads (`cloudflare/types/realtime_kit/`)."""

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from salon.core.meetings import AIConfig, RecordingConfig
from salon.core.presets import Permissions, PresetConfig, PresetUI
from salon.core.webhooks import WebhookEvent
from salon.realtime.messages.base import Timestamp, closed
from salon.realtime.messages.views import PluginEntry


@closed
class App(TypedDict):
    id: str
    name: str
    created_at: Timestamp


@closed
class CreatedApp(TypedDict):
    app: App


@closed
class StorageView(TypedDict):
    """Where the files go, every field present (`null` when not set); `access_key`,
    `secret`, `password`, `private_key` are never sent back."""

    #: RealtimeKit's five, and `cloudflare` (R2), which its docs use (S3-compatible).
    type: Literal["aws", "azure", "cloudflare", "digitalocean", "gcs", "sftp"]
    bucket: str | None
    region: str | None
    path: str | None
    auth_method: Literal["KEY", "PASSWORD"] | None
    username: str | None
    host: str | None
    port: int | None


class RecordingConfigView(RecordingConfig):
    """The meeting's `recording_config` as answered: its storage without the secrets."""

    storage_config: StorageView | None = None  # type: ignore[assignment]


@closed
class MeetingBase(TypedDict):
    """A meeting without `ai_config` and `preferred_region`: as a listed recording's
    `meeting` (R3)."""

    id: str
    title: str | None
    status: Literal["ACTIVE", "INACTIVE"]
    record_on_start: bool
    live_stream_on_start: bool
    persist_chat: bool
    summarize_on_end: bool
    transcribe_on_end: bool
    session_keep_alive_time_in_secs: int
    #: Storage credentials (`access_key`, `secret`, `password`, `private_key`) are never
    #: sent back.
    recording_config: RecordingConfigView
    created_at: Timestamp
    updated_at: Timestamp


@closed
class Meeting(MeetingBase):
    ai_config: AIConfig
    #: Only when it was set.
    preferred_region: NotRequired[str]


@closed
class Participant(TypedDict):
    id: str
    custom_participant_id: str
    preset_name: str
    name: str | None
    picture: str | None
    created_at: Timestamp
    updated_at: Timestamp
    #: On add (P2) and edit (P4) only: the token the participant's client joins with.
    token: NotRequired[str]


@closed
class DeletedParticipant(TypedDict):
    id: str
    custom_participant_id: str
    preset_id: str
    created_at: Timestamp
    updated_at: Timestamp


@closed
class ParticipantToken(TypedDict):
    token: str


@closed
class PresetSummary(TypedDict):
    id: str
    name: str
    created_at: Timestamp
    updated_at: Timestamp


@closed
class Preset(PresetSummary):
    config: PresetConfig
    permissions: Permissions
    ui: PresetUI


@closed
class Webhook(TypedDict):
    id: str
    name: str
    url: str
    events: list[WebhookEvent]
    enabled: bool
    created_at: Timestamp
    updated_at: Timestamp


#: A plugin of the registry: REST shows it as the realtime plugin events do.
Plugin = PluginEntry


@closed
class Health(TypedDict):
    status: Literal["ok"]
    version: str
