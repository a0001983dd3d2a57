"""Media signalling: replies and events (docs/protocol.md "Media")."""

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from salon.realtime.messages.base import Json, MediaKind, PcRole, closed
from salon.realtime.messages.views import Track


@closed
class PublishedTrack(Track):
    #: The m-line of the publisher's offer the track came in on.
    mid: str


@closed
class PublishAnswer(TypedDict):
    sdp: str
    tracks: list[PublishedTrack]


@closed
class Kinds(TypedDict):
    kinds: list[MediaKind]


@closed
class Done(TypedDict):
    """An empty reply: the request was carried out."""


@closed
class Receiving(TypedDict):
    mode: Literal["auto", "manual"]
    track_ids: list[str]


@closed
class EncodingStats(TypedDict):
    """One encoding of a simulcast track, low to high (docs/media-design.md §6.10)."""

    rid: str
    #: Of its latest VP8 keyframe (0 until one is seen).
    width: int
    height: int
    keyframes: int
    #: False while the server has paused it: nobody takes it (media.encodings).
    active: bool


@closed
class TrackStats(Track):
    #: Simulcast tracks only: their encodings, low to high.
    encodings: NotRequired[list[EncodingStats]]
    frames: int
    keyframes: int
    bytes: int
    fps: float
    plis: int
    dropped: int
    recovered: int
    forwarding: bool
    refused_at_rtp: bool
    subscribers: int


@closed
class SlotStats(TypedDict):
    track_id: str
    mid: str
    sent: int
    dropped: int
    resent: int
    #: Packets of temporal layers above `layer` left out for this peer.
    skipped: int
    #: The highest VP8 temporal layer this peer gets now (3: all); null for audio.
    layer: int | None
    #: Layer switches so far.
    switches: int
    #: Of a simulcast track: the RID of the encoding this peer gets now (null before
    #: the first keyframe), and switches between encodings so far.
    encoding: NotRequired[str | None]
    encoding_switches: NotRequired[int]


@closed
class ProbeStats(TypedDict):
    #: Padding probes that took the estimate up to a higher encoding, and those that
    #: failed (loss, a queue, a congested REMB, no verdict in 3 s, nothing to copy);
    #: copies of datagrams sent as padding.
    won: int
    lost: int
    copies: int


@closed
class MediaStats(TypedDict):
    peer_id: str
    tracks: list[TrackStats]
    receiving: list[SlotStats]
    available: list[Track]
    #: The server's estimate of this peer's downlink, bits/s.
    estimate_bps: int
    probes: ProbeStats


@closed
class SubscribeOffer(TypedDict):
    sdp: str
    revision: int
    #: By mid; null is an idle m-line kept for reuse.
    tracks: dict[str, Track | None]


@closed
class IceCandidate(TypedDict):
    pc: PcRole
    candidate: dict[str, Json] | None


@closed
class Published(TypedDict):
    track: Track


@closed
class Unpublished(TypedDict):
    track_id: str
    reason: Literal["unpublished", "left", "replaced", "failed"]


@closed
class EncodingState(TypedDict):
    rid: str
    #: Whether the publisher should send this encoding.
    active: bool


@closed
class Encodings(TypedDict):
    """To a simulcast publisher: send only the encodings marked active (the server
    pauses those nobody takes, and resumes one as soon as someone does)."""

    track_id: str
    #: Every encoding of the track, low to high.
    encodings: list[EncodingState]


@closed
class Speaker(TypedDict):
    peer_id: str | None


@closed
class Transport(TypedDict):
    pc: PcRole
    state: Literal["connected", "failed", "closed"]


@closed
class BacklogPacket(TypedDict):
    #: When the server received it (unix seconds, to the millisecond).
    at: float
    #: Its RTP timestamp in the stream you receive (48 kHz Opus).
    timestamp: int
    #: The Opus payload, base64.
    data: str


@closed
class VoiceBacklog(TypedDict):
    track_id: str
    #: Oldest first: at most the last 5 s, all before the timestamp asked about.
    packets: list[BacklogPacket]


REPLIES: dict[str, Any] = {
    "media.publish": PublishAnswer,
    "media.unpublish": Kinds,
    "media.subscribe_answer": Done,
    "media.ice": Done,
    "media.subscribe": Receiving,
    "media.reset": Done,
    "media.stats": MediaStats,
    "media.prefer": Done,
    "media.backlog": VoiceBacklog,
}

EVENTS: dict[str, Any] = {
    "media.subscribe_offer": SubscribeOffer,
    "media.ice": IceCandidate,
    "media.published": Published,
    "media.unpublished": Unpublished,
    "media.speaker": Speaker,
    "media.transport": Transport,
    "media.encodings": Encodings,
}
