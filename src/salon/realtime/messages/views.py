"""The views messages carry: a peer as others and as itself see it, the room, plugins,
tracks and the media config (docs/protocol.md "Views").

They are the shapes `salon.core.room` and the gateway build; the room's own functions
return plain dicts, and the test suite checks each one against these on every message.
"""

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from salon.core.presets import Permissions
from salon.realtime.messages.base import MediaKind, StageStatus, Timestamp, closed


@closed
class WaitingView(TypedDict):
    """A peer in the waiting room, or asking for the stage, as managers see it."""

    peer_id: str
    participant_id: str
    custom_participant_id: str
    name: str
    picture: str | None
    preset_name: str


@closed
class PeerView(WaitingView):
    """How other peers see a joined peer."""

    stage_status: StageStatus
    audio: bool
    video: bool
    screenshare: bool
    pinned: bool
    joined_at: Timestamp | None
    #: The peer's speech is captioned (its preset has `transcription_enabled`).
    transcribed: bool
    #: When the peer raised its hand; null while it is down. Distinct per room, so
    #: sorting by it gives the raise order.
    hand_raised_at: Timestamp | None


@closed
class MediaFlags(TypedDict):
    audio: bool
    video: bool
    screenshare: bool


@closed
class SelfView(PeerView):
    """How a peer sees itself: its PeerView plus what it may do."""

    status: Literal["waiting", "joined"]
    hidden: bool
    #: The one rule for what this peer may send now (preset, stage, host locks).
    can_publish: MediaFlags
    locked: list[MediaKind]
    permissions: Permissions
    view_type: str


@closed
class PluginAccessView(TypedDict):
    access_control: Literal["FULL_ACCESS", "VIEW_ONLY"]
    handles_view_only: bool


@closed
class PluginEntry(TypedDict):
    """A plugin of the app's registry, as REST shows it too."""

    id: str
    name: str
    url: str
    icon: str | None
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp


@closed
class PluginView(PluginEntry):
    """A registry plugin with whether it is active in the session, and since when."""

    active: bool
    activated_by: str | None
    activated_at: Timestamp | None


@closed
class PluginForPeer(PluginView):
    """A plugin with the viewer's own access to it (its preset's `plugins.config`)."""

    access: PluginAccessView


@closed
class MeetingRef(TypedDict):
    id: str
    title: str | None
    #: Every voice is kept for a transcript made when the session ends.
    transcribe_on_end: bool


@closed
class RecordingView(TypedDict):
    """A recording as the meeting's peers see it."""

    id: str
    type: Literal["composite", "track"]
    status: Literal["INVOKED", "RECORDING", "PAUSED", "UPLOADING", "UPLOADED", "ERRORED"]
    invoked_time: Timestamp
    started_time: Timestamp | None
    #: Once stopping: API_CALL, ALL_PEERS_LEFT, INTERNAL_ERROR or MAX_SECONDS.
    stop_reason: str | None


@closed
class LivestreamView(TypedDict):
    """The meeting's livestream as its peers see it (no stream key)."""

    id: str
    #: The livestream session (one run from start to stop).
    session_id: str
    status: Literal["INVOKED", "LIVE", "IDLE", "ERRORED"]
    #: The HLS playlist viewers play (no credentials needed).
    playback_url: str


@closed
class Counts(TypedDict):
    """How many are here (hidden participants left out): everyone, on the stage, and
    the audience (off-stage webinar viewers without host rights)."""

    participants: int
    on_stage: int
    audience: int


@closed
class RoomState(TypedDict):
    """The room as one joined peer may see it; `waiting` and `stage_requests` only for
    the peers who manage them."""

    session_id: str
    meeting: MeetingRef
    peers: list[PeerView]
    pinned_peer_id: str | None
    #: Who spoke last (the last `media.speaker` naming a peer; null if nobody has, or
    #: they have left).
    last_speaker_peer_id: str | None
    plugins: list[PluginForPeer]
    #: The meeting's active recordings (INVOKED, RECORDING, PAUSED): an indicator.
    recordings: list[RecordingView]
    #: The meeting's livestream while it is INVOKED or LIVE, else null.
    livestream: LivestreamView | None
    #: The room is large and the viewer is audience: `peers` holds the stage, the hosts,
    #: the viewer and the first page of `peers.list` (docs/large-rooms.md).
    large: bool
    counts: Counts
    waiting: NotRequired[list[WaitingView]]
    stage_requests: NotRequired[list[WaitingView]]
    #: When `large`: the `peers.list` cursor after the first page (null: it was all).
    peers_next_cursor: NotRequired[str | None]


@closed
class Capture(TypedDict):
    """A preset's capture settings for one kind (its `config.media.video` or
    `.screenshare`): `quality` the largest size (qvga 320x240, vga 640x480, hd 1280x720,
    fhd 1920x1080, uhd 3840x2160), `frame_rate` the most frames a second."""

    quality: Literal["qvga", "vga", "hd", "fhd", "uhd"]
    frame_rate: int


@closed
class MediaConfig(TypedDict):
    """What a client needs for its peer connections; only `enabled` (false) when the
    server runs without media."""

    enabled: bool
    ice_servers: NotRequired[list[dict[str, Any]]]
    ice_transport_policy: NotRequired[Literal["all", "relay"]]
    codecs: NotRequired[dict[str, list[str]]]
    max_video_streams: NotRequired[int]
    #: The server receives a camera as simulcast (several encodings on one m-line,
    #: RFC 8853) and forwards each subscriber the one that fits.
    simulcast: NotRequired[bool]
    #: The peer's preset `config.media.video`: what its camera is captured at.
    video: NotRequired[Capture]
    #: The peer's preset `config.media.screenshare`: what its screen is captured at.
    screenshare: NotRequired[Capture]


@closed
class Track(TypedDict):
    """One published track; `<peer_id>:<kind>` names it."""

    track_id: str
    peer_id: str
    kind: MediaKind
    codec: str


@closed
class Joined(TypedDict):
    """What a join says, and a move (`meeting.changed`) says again for the new room."""

    peer_id: str
    resume_token: str
    status: Literal["waiting", "joined"]
    self: SelfView
    room: NotRequired[RoomState]
    media: MediaConfig
