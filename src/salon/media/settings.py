"""Run-time knobs of the media plane (from `salon.settings.Settings`)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MediaSettings:
    #: "embedded" (aiortc in this process) or "none" (media requests are refused).
    backend: str = "embedded"
    #: Host candidate addresses; empty means every interface but loopback (aioice's own
    #: enumeration), and 127.0.0.1 when that finds nothing.
    ice_hosts: tuple[str, ...] = ()
    #: STUN/TURN servers handed to clients as given (RTCIceServer dicts). Never a default.
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    #: coturn `use-auth-secret`: TURN URLs and the shared secret; credentials per peer.
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl_secs: int = 86400
    #: "relay" tells clients to send media only through TURN (hides their addresses).
    ice_transport_policy: str = "all"
    #: Hard cap on the videos one peer may receive with a manual subscription.
    max_video_subscriptions: int = 25
    #: SO_RCVBUF of ICE sockets (the kernel caps it at net.core.rmem_max).
    udp_rcvbuf: int = 4 * 1024 * 1024
    #: A publisher that keeps sending a kind it may no longer publish has its packets
    #: dropped at RTP level (before reassembly) after this long; forwarding stops at once.
    revoke_grace_secs: float = 10.0
    #: Most bits/s a publisher may send per video track, told to it by RTCP REMB.
    max_video_bitrate: int = 2_500_000
