"""A peer: one live connection of a participant, as the room sees it."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from salon.core.clock import isoformat
from salon.core.presets import MediaConfig, Permissions

MediaKind = Literal["audio", "video", "screenshare"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("audio", "video", "screenshare")


class PeerStatus(StrEnum):
    WAITING = "waiting"
    JOINED = "joined"


class StageStatus(StrEnum):
    OFF_STAGE = "OFF_STAGE"
    REQUESTED_TO_JOIN_STAGE = "REQUESTED_TO_JOIN_STAGE"
    ACCEPTED_TO_JOIN_STAGE = "ACCEPTED_TO_JOIN_STAGE"
    ON_STAGE = "ON_STAGE"


@dataclass
class Peer:
    peer_id: str
    participant_id: str
    custom_participant_id: str
    name: str
    picture: str | None
    preset_name: str
    view_type: str
    permissions: Permissions
    status: PeerStatus = PeerStatus.WAITING
    stage_status: StageStatus = StageStatus.OFF_STAGE
    #: What the peer says it is sending right now.
    media: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(MEDIA_KINDS, False))
    #: Kinds a host turned off and did not allow back: the peer cannot turn them on.
    locked: set[str] = field(default_factory=set)
    connected_at: datetime | None = None
    joined_at: datetime | None = None
    #: When the socket dropped; a peer that resumes within the grace window keeps its place.
    disconnected_at: datetime | None = None
    #: The preset's `config.max_video_streams` for this peer's device: how many videos it
    #: receives by default.
    max_video_streams: int = 6
    #: The preset's caps by device, for a peer that says which one it is on.
    video_stream_caps: dict[str, int] = field(
        default_factory=lambda: {"desktop": 6, "mobile": 6})
    #: The preset's `config.max_screenshare_count`: how many may share at once.
    max_screenshare_count: int = 1
    #: The preset's `config.media.video` and `.screenshare`, `{quality, frame_rate}`
    #: each: what the peer's camera and screen are captured at (the join reply's
    #: `media`; the browser SDK applies them).
    capture: dict[str, dict[str, Any]] = field(
        default_factory=lambda: MediaConfig().capture())
    #: When the peer raised its hand (None: lowered). The room keeps raise times distinct
    #: (core/room/hands.py), so sorting by them is the order hands went up.
    hand_raised_at: datetime | None = None
    #: The room's count of admissions when this peer was admitted: the joining order
    #: that `peers.list` pages by (core/room/audience.py).
    join_seq: int = 0

    @property
    def joined(self) -> bool:
        return self.status is PeerStatus.JOINED

    @property
    def hidden(self) -> bool:
        return self.permissions.hidden_participant

    @property
    def is_bot(self) -> bool:
        """One of salon's own bots (a recorder, a transcriber): hidden, recorder preset."""
        return self.hidden and self.permissions.is_recorder

    @property
    def uses_stage(self) -> bool:
        return self.permissions.stage_enabled

    @property
    def manages_stage(self) -> bool:
        p = self.permissions
        return p.accept_stage_requests or p.can_accept_production_requests

    def may_publish(self, kind: MediaKind) -> bool:
        """The one rule for what a peer may send; the media plane enforces exactly this.

        Preset `media.<kind>.can_produce` (as live updates left it), the stage (a peer of
        a stage-enabled preset sends only while ON_STAGE, and then unless NOT_ALLOWED),
        and host locks (a host disabled the kind and did not allow it back). Hidden
        participants never appear, so they never publish.
        """
        if kind in self.locked or self.hidden:
            return False
        produce = getattr(self.permissions.media, kind).can_produce
        if self.uses_stage:
            return self.stage_status is StageStatus.ON_STAGE and produce != "NOT_ALLOWED"
        return produce == "ALLOWED"

    def publishing_rights(self) -> dict[str, bool]:
        return {kind: self.may_publish(kind) for kind in MEDIA_KINDS}

    def public_view(self, pinned_peer_id: str | None) -> dict[str, Any]:
        """How other peers see this one."""
        return {
            "peer_id": self.peer_id,
            "participant_id": self.participant_id,
            "custom_participant_id": self.custom_participant_id,
            "name": self.name,
            "picture": self.picture,
            "preset_name": self.preset_name,
            "stage_status": self.stage_status.value,
            "audio": self.media["audio"],
            "video": self.media["video"],
            "screenshare": self.media["screenshare"],
            "pinned": self.peer_id == pinned_peer_id,
            "joined_at": isoformat(self.joined_at),
            # Whether this peer's speech is captioned (preset `transcription_enabled`):
            # everyone may know who is being transcribed.
            "transcribed": self.permissions.transcription_enabled,
            "hand_raised_at": isoformat(self.hand_raised_at),
        }

    def waiting_view(self) -> dict[str, Any]:
        """How hosts see a peer in the waiting room."""
        return {
            "peer_id": self.peer_id,
            "participant_id": self.participant_id,
            "custom_participant_id": self.custom_participant_id,
            "name": self.name,
            "picture": self.picture,
            "preset_name": self.preset_name,
        }

    def self_view(self, pinned_peer_id: str | None) -> dict[str, Any]:
        """How a peer sees itself: its public view plus what it may do."""
        return {
            **self.public_view(pinned_peer_id),
            "status": self.status.value,
            "hidden": self.hidden,
            "can_publish": self.publishing_rights(),
            "locked": sorted(self.locked),
            "permissions": self.permissions.wire(),
            "view_type": self.view_type,
        }
