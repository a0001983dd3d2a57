"""The media backend interface: what the live layer asks of whichever SFU forwards media.

The room decides (who may publish, who receives what); a backend carries it out. The
embedded backend (`salon.media.embedded`) runs aiortc in this process; a Janus backend
can sit behind the same interface later. Backends know peers, tracks and transports,
and nothing about presets or stages (docs/media-design.md §3).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

MediaKind = Literal["audio", "video", "screenshare"]
PcRole = Literal["publish", "subscribe"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("audio", "video", "screenshare")


class MediaError(Exception):
    """A refused media request; `code` is the realtime protocol's error code."""

    code = "INVALID"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MediaForbidden(MediaError):
    code = "FORBIDDEN"


class MediaConflict(MediaError):
    code = "CONFLICT"


class MediaInvalid(MediaError):
    code = "INVALID"


class MediaNotFound(MediaError):
    code = "NOT_FOUND"


@dataclass(frozen=True)
class TrackInfo:
    """One published track. One track per kind per peer, so `<peer_id>:<kind>` names it."""

    track_id: str
    peer_id: str
    kind: MediaKind
    codec: str  # "audio/opus", "video/VP8", "video/H264"
    mid: str    # on the publisher's publish connection

    def wire(self) -> dict[str, Any]:
        return {"track_id": self.track_id, "peer_id": self.peer_id, "kind": self.kind,
                "codec": self.codec}


def track_id(peer_id: str, kind: str) -> str:
    return f"{peer_id}:{kind}"


@dataclass(frozen=True)
class PublishAnswer:
    sdp: str
    tracks: list[TrackInfo]


@dataclass(frozen=True)
class ClientConfig:
    """What a client needs before it creates a peer connection (sent in the join reply)."""

    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    ice_transport_policy: Literal["all", "relay"] = "all"
    codecs: dict[str, list[str]] = field(
        default_factory=lambda: {"audio": ["opus"], "video": ["VP8", "H264"]})
    #: Whether the backend accepts a simulcast camera (docs/media-design.md §6.10).
    simulcast: bool = False

    def wire(self, max_video_streams: int) -> dict[str, Any]:
        out = {"ice_servers": self.ice_servers,
               "ice_transport_policy": self.ice_transport_policy,
               "codecs": self.codecs, "max_video_streams": max_video_streams}
        if self.simulcast:
            out["simulcast"] = True
        return out


class MediaEvents(Protocol):
    """How a backend reports back; calls are made on the event loop and must not block."""

    def subscribe_offer(self, peer_id: str, sdp: str, revision: int,
                        tracks: Mapping[str, TrackInfo | None]) -> None: ...
    def ice_candidate(self, peer_id: str, pc: PcRole, candidate: dict | None) -> None: ...
    def track_published(self, track: TrackInfo) -> None: ...
    def track_ended(self, track_id: str, reason: str) -> None: ...
    def transport_state(self, peer_id: str, pc: PcRole, state: str) -> None: ...
    def speaker(self, room_id: str, peer_id: str | None) -> None: ...
    def encodings(self, peer_id: str, track_id: str, encodings: list[dict]) -> None:
        """The publisher should send only the simulcast encodings marked active."""


class MediaBackend(Protocol):
    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def client_config(self, peer_id: str) -> ClientConfig: ...

    def open_peer(self, room_id: str, peer_id: str, events: MediaEvents) -> None:
        """A joined peer may use media; connections are made on first use."""
    async def close_peer(self, peer_id: str) -> None:
        """Tear down both connections; the peer's tracks end everywhere."""
    async def publish(self, peer_id: str, sdp: str,
                      tracks: Mapping[str, MediaKind]) -> PublishAnswer:
        """The client's offer on its publish connection; `tracks` maps sending mids to
        kinds. Kinds not allowed by the last `enforce` raise MediaForbidden."""
    async def unpublish(self, peer_id: str, kinds: Iterable[MediaKind]) -> None: ...
    async def subscribe_answer(self, peer_id: str, sdp: str, revision: int) -> None: ...
    async def add_ice_candidate(self, peer_id: str, pc: PcRole,
                                candidate: dict | None) -> None: ...
    async def reset(self, peer_id: str, pc: PcRole) -> None: ...

    def enforce(self, peer_id: str, can_publish: Mapping[str, bool]) -> None:
        """The hard rule changed: disallowed kinds stop forwarding now."""
    def set_forwarding(self, peer_id: str, kind: MediaKind, on: bool) -> None:
        """The soft state (`peer.media`): pause or resume forwarding, no renegotiation."""
    def subscribe(self, subscriber_id: str, track_ids: Iterable[str]) -> None: ...
    def unsubscribe(self, subscriber_id: str, track_ids: Iterable[str]) -> None: ...
    def published(self, peer_id: str) -> list[TrackInfo]: ...
    def stats(self, peer_id: str) -> dict[str, Any]: ...
    def prefer(self, peer_id: str, data_saver: bool | None,
               heights: Mapping[str, int] | None) -> None:
        """The subscriber's own limits: data saver, rendered tile heights (merged)."""

    def backlog(self, subscriber_id: str, track_id: str, before: int,
                since: float | None = None) -> list[tuple[float, int, bytes]]:
        """The last seconds of a voice the subscriber receives (those received at or
        after `since`, unix seconds, if given) before its RTP timestamp `before`, as
        (arrival unix time, RTP timestamp, Opus payload), oldest first, in the
        subscriber's numbering (docs/protocol.md `media.backlog`)."""
