"""The preset schema: a named bundle of media config, permissions and UI tokens.

Field names, enums and defaults follow the official `cloudflare` SDK
(`types/realtime_kit/preset_create_params.py`) and the RealtimeKit client's defaults
(`defaultPresetV2`). Every field has a default here, so a partial body makes a complete
preset; PATCH merges into the stored tree and validates the result as a whole.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from salon.core.merge import deep_merge
from salon.core.schema import Flag, Int, JsonObject, Number, Strict, text

ViewType = Literal["GROUP_CALL", "WEBINAR", "AUDIO_ROOM", "LIVESTREAM"]
Quality = Literal["hd", "vga", "qvga", "fhd", "uhd"]
ProducePermission = Literal["ALLOWED", "NOT_ALLOWED", "CAN_REQUEST"]
WaitingRoomType = Literal["SKIP", "ON_PRIVILEGED_USER_ENTRY", "SKIP_ON_ACCEPT"]
RecorderType = Literal["RECORDER", "LIVESTREAMER", "NONE"]
HexColour = Annotated[str, Field(pattern=r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")]
StreamCount = Annotated[Int, Field(ge=0, le=100)]


# --- config -----------------------------------------------------------------------------


class MaxVideoStreams(Strict):
    desktop: StreamCount = 6
    mobile: StreamCount = 6


class VideoConfig(Strict):
    quality: Quality = "vga"
    frame_rate: Annotated[Int, Field(ge=1, le=30)] = 30
    simulcast: Flag = False


class ScreenshareConfig(Strict):
    quality: Quality = "hd"
    frame_rate: Annotated[Int, Field(ge=1, le=30)] = 5


class AudioConfig(Strict):
    enable_stereo: Flag = False
    enable_high_bitrate: Flag = False


class MediaConfig(Strict):
    video: VideoConfig = VideoConfig()
    screenshare: ScreenshareConfig = ScreenshareConfig()
    audio: AudioConfig = AudioConfig()

    def capture(self) -> dict[str, dict[str, Any]]:
        """What a peer's camera and screen are captured at: `{quality, frame_rate}` of
        `video` and `screenshare` (the join reply's `media`)."""
        return {kind: getattr(self, kind).model_dump(include={"quality", "frame_rate"})
                for kind in ("video", "screenshare")}


class PresetConfig(Strict):
    view_type: ViewType = "GROUP_CALL"
    max_video_streams: MaxVideoStreams = MaxVideoStreams()
    max_screenshare_count: StreamCount = 1
    media: MediaConfig = MediaConfig()
    livestream_viewer_qualities: list[Literal[240, 360, 480, 720, 1080]] | None = None


# --- permissions ------------------------------------------------------------------------


class PublicChat(Strict):
    can_send: Flag = True
    text: Flag = True
    files: Flag = True


class PrivateChat(Strict):
    can_send: Flag = False
    can_receive: Flag = False
    text: Flag = False
    files: Flag = False


class ChatPermissions(Strict):
    public: PublicChat = PublicChat()
    private: PrivateChat = PrivateChat()


class PollPermissions(Strict):
    can_create: Flag = True
    can_vote: Flag = True
    can_view: Flag = True


class PluginAccess(Strict):
    access_control: Literal["FULL_ACCESS", "VIEW_ONLY"] = "FULL_ACCESS"
    handles_view_only: Flag = False


class PluginPermissions(Strict):
    can_start: Flag = True
    can_close: Flag = True
    can_edit_config: Flag = False
    config: dict[text(name=True), PluginAccess] = {}


class ConnectedMeetingPermissions(Strict):
    can_alter_connected_meetings: Flag = False
    can_switch_connected_meetings: Flag = False
    can_switch_to_parent_meeting: Flag = False


class ProducePermissionOf(Strict):
    can_produce: ProducePermission = "ALLOWED"


class MediaPermissions(Strict):
    audio: ProducePermissionOf = ProducePermissionOf()
    video: ProducePermissionOf = ProducePermissionOf()
    screenshare: ProducePermissionOf = ProducePermissionOf()


class Permissions(Strict):
    accept_waiting_requests: Flag = False
    waiting_room_type: WaitingRoomType = "SKIP"
    can_accept_production_requests: Flag = False
    accept_stage_requests: Flag = False
    stage_enabled: Flag = False
    stage_access: ProducePermission | None = None
    media: MediaPermissions = MediaPermissions()
    kick_participant: Flag = False
    pin_participant: Flag = False
    disable_participant_audio: Flag = False
    disable_participant_video: Flag = False
    disable_participant_screensharing: Flag = False
    can_spotlight: Flag = False
    can_record: Flag = False
    can_livestream: Flag = False
    can_edit_display_name: Flag = True
    can_change_participant_permissions: Flag = False
    show_participant_list: Flag = True
    hidden_participant: Flag = False
    is_recorder: Flag = False
    recorder_type: RecorderType = "NONE"
    transcription_enabled: Flag = False
    chat: ChatPermissions = ChatPermissions()
    polls: PollPermissions = PollPermissions()
    plugins: PluginPermissions = PluginPermissions()
    connected_meetings: ConnectedMeetingPermissions = ConnectedMeetingPermissions()


# --- ui ---------------------------------------------------------------------------------


class BrandColours(Strict):
    shade_300: HexColour = Field("#844d1c", alias="300")
    shade_400: HexColour = Field("#9d5b22", alias="400")
    shade_500: HexColour = Field("#b56927", alias="500")
    shade_600: HexColour = Field("#d37c30", alias="600")
    shade_700: HexColour = Field("#d9904f", alias="700")


class BackgroundColours(Strict):
    shade_600: HexColour = Field("#222222", alias="600")
    shade_700: HexColour = Field("#1f1f1f", alias="700")
    shade_800: HexColour = Field("#1b1b1b", alias="800")
    shade_900: HexColour = Field("#181818", alias="900")
    shade_1000: HexColour = Field("#141414", alias="1000")


class Colours(Strict):
    brand: BrandColours = BrandColours()
    background: BackgroundColours = BackgroundColours()
    danger: HexColour = "#FF2D2D"
    success: HexColour = "#62A504"
    text: HexColour = "#EEEEEE"
    text_on_brand: HexColour = "#EEEEEE"
    video_bg: HexColour = "#191919"
    warning: HexColour = "#FFCD07"


class DesignTokens(Strict):
    border_radius: Literal["sharp", "rounded", "extra-rounded", "circular"] = "rounded"
    border_width: Literal["none", "thin", "fat"] = "thin"
    spacing_base: Annotated[Number, Field(ge=0, le=64)] = 4
    theme: Literal["darkest", "dark", "light"] = "dark"
    colors: Colours = Colours()
    logo: text() | None = None
    font_family: text(name=True) | None = None
    google_font: text(name=True) | None = None


class PresetUI(Strict):
    design_tokens: DesignTokens = DesignTokens()
    config_diff: JsonObject | None = None


# --- the preset -------------------------------------------------------------------------

PresetName = text(100, min_length=1, pattern=r"^\S(?:.*\S)?$", name=True)


class PresetBody(Strict):
    """What a client sends to create or replace a preset; omitted parts take defaults."""

    name: PresetName
    config: PresetConfig = PresetConfig()
    permissions: Permissions = Permissions()
    ui: PresetUI = PresetUI()

    def tree(self) -> dict[str, Any]:
        """The stored form: config, permissions and ui as plain JSON."""
        wire = self.wire()
        return {key: wire[key] for key in ("config", "permissions", "ui")}


def patched(current: dict[str, Any], patch: dict[str, Any]) -> PresetBody:
    """Lay a deep-partial patch over a stored preset and validate the whole result."""
    return PresetBody.model_validate(deep_merge(current, patch))
