"""Publishing a camera as simulcast from the Python client: several encodings of the same
picture (RIDs `q`, `h`, `f`, low to high), each on an SSRC of its own on one m-line, as
Chromium sends them (docs/client.md § Simulcast).

    files = make_simulcast_media("/tmp/salon-media")       # {"q", "h", "f"} -> Path
    await media.publish("video", SimulcastSource.from_files(files))

aiortc's `RTCRtpSender` sends one SSRC per transceiver. The transceiver's own sender
sends the highest encoding the server takes, and one more `RTCRtpSender` per other
encoding shares its DTLS transport: aiortc's RTCP router hands each one the keyframe
requests (PLI/FIR) and receiver reports for its SSRC, and each sends its own sender
reports (RTCP SR, with SDES CNAME). Every packet carries the MID and the RID header
extensions. When the server's answer does not accept simulcast (a server without it),
only the transceiver's sender runs, with the highest encoding and no RID: what a
single-encoding publisher sends.

The server pauses encodings nobody receives (`media.encodings`, `set_active`): a paused
encoding's sender gets no track and sends nothing; resumed, it starts at a keyframe.

No RTX: the simulcast m-line offers VP8 alone, so a lost packet is resent on its own
SSRC (aiortc does so when no RTX payload type is negotiated); RTX on simulcast would
need the repaired-RID extension, which aiortc's sender cannot write.
"""

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path

from aiortc import RTCRtpSender
from aiortc.codecs import HEADER_EXTENSIONS
from aiortc.rtcrtpparameters import RTCRtcpParameters, RTCRtpSendParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap

from salon.client.media.simulcast_sdp import RID_URI, accepted_rids, extmap_id, offer_simulcast
from salon.client.media.sources import FileSource
from salon.client.media.testmedia import SIMULCAST_PATTERN
from salon.deadline import within
from salon.media.embedded import sender_hooks

log = logging.getLogger("salon.client.media")
#: Header extension ids aiortc gives its own extensions, whichever m-lines an offer has
#: yet: the RID's id must stay clear of them in later offers too.
_AIORTC_EXTENSION_IDS = frozenset(e.id for exts in HEADER_EXTENSIONS.values() for e in exts)
#: RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_"); kept short, as browsers do.
_RID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class SimulcastSource:
    """A camera as several pre-encoded encodings of the same picture, low to high.

    `encodings` maps each RID to a VP8 `FileSource`, lowest first (a dict keeps the
    order). Not a track itself: `MediaSession.publish` sends each encoding's source.
    """

    kind = "video"
    codec = "VP8"
    mime_type = "video/VP8"

    def __init__(self, encodings: Mapping[str, FileSource]) -> None:
        if not encodings:
            raise ValueError("simulcast needs at least one encoding")
        for rid, source in encodings.items():
            if not _RID.match(rid):
                raise ValueError(f"{rid!r} is not a RID (letters, digits, - and _)")
            if getattr(source, "kind", None) != "video" or getattr(source, "codec",
                                                                   None) != "VP8":
                raise ValueError(f"encoding {rid!r} is not a VP8 video source")
        self.encodings: dict[str, FileSource] = dict(encodings)

    @classmethod
    def from_files(cls, files: Mapping[str, Path | str], *,
                   temporal_pattern: tuple[int, ...] | None = SIMULCAST_PATTERN,
                   loop: bool = True) -> "SimulcastSource":
        """From `make_simulcast_media`'s files ({"q", "h", "f"} -> path, low to high);
        each names its frames' temporal layers unless `temporal_pattern` is None."""
        return cls({rid: FileSource(path, loop=loop, temporal_pattern=temporal_pattern)
                    for rid, path in files.items()})

    @property
    def rids(self) -> list[str]:
        """The RIDs, low to high."""
        return list(self.encodings)

    @property
    def keyframe_requests(self) -> dict[str, int]:
        """Keyframe requests (PLI/FIR) each encoding has answered so far."""
        return {rid: source.keyframe_requests for rid, source in self.encodings.items()}

    def stop(self) -> None:
        for source in self.encodings.values():
            source.stop()


class _RidStamp(HeaderExtensionsMap):
    """aiortc's header extension writer, plus the RID on every packet (aiortc's sender
    sets only the MID; its writer knows the RID extension but only from negotiated
    parameters, and aiortc never negotiates it). `rid` None writes none."""

    def __init__(self) -> None:
        super().__init__()
        self.rid: str | None = None
        self.rid_id: int | None = None

    def configure(self, parameters) -> None:
        super().configure(parameters)
        self._apply()

    def stamp(self, rid: str | None, rid_id: int | None) -> None:
        self.rid, self.rid_id = rid, rid_id
        self._apply()

    def _apply(self) -> None:
        self._HeaderExtensionsMap__ids.rtp_stream_id = self.rid_id  # name-mangled

    def set(self, values: HeaderExtensions) -> tuple[int, bytes]:
        values.rtp_stream_id = self.rid if self.rid_id else None
        return super().set(values)


def _stamp_rid(sender: RTCRtpSender) -> _RidStamp:
    """Give `sender` a RID-writing header extension map (before negotiation starts it:
    `send()` configures the map it finds; each packet is written with the current one)."""
    stamp = _RidStamp()
    sender._RTCRtpSender__rtp_header_extensions_map = stamp  # name-mangled
    return stamp


class SimulcastSender:
    """Sends a `SimulcastSource` on one video transceiver (see the module docstring).

    `accepted` lists the RIDs the server's latest answer takes, low to high; [] means
    one encoding (the highest) without RID.
    """

    def __init__(self, transceiver, source: SimulcastSource) -> None:
        self.transceiver = transceiver
        self.source = source
        self.accepted: list[str] = []
        self.extras: dict[str, RTCRtpSender] = {}   # RID -> sender of a lower encoding
        #: RIDs the server paused (`set_active`): their senders send nothing.
        self.inactive: set[str] = set()
        self._sending = True  # False once `pause`d (unpublished)
        self._parameters: RTCRtpSendParameters | None = None
        self._rid_id: int | None = None      # in the server's latest answer
        self._offered_id: int | None = None  # in our first offer, kept in later ones
        primary = transceiver.sender
        self._stamp = _stamp_rid(primary)
        self._primary_rid = source.rids[-1]
        sender_hooks.on_send_parameters(primary, self._negotiated)
        sender_hooks.hook_keyframe_requests(primary, lambda: self._keyframe(self._primary_rid))
        sender_hooks.hook_vp8_layers(primary, self._primary_layer)

    @property
    def mid(self) -> str:
        return str(self.transceiver.mid)

    def replace(self, source: SimulcastSource) -> None:
        """Send another set with the same RIDs (publishing again after `unpublish`)."""
        if source.rids != self.source.rids:
            raise ValueError(f"this camera was offered as {self.source.rids}, not"
                             f" {source.rids}")
        self.source = source
        self._sending = True
        self.inactive.clear()  # a new track on the server: every encoding wanted
        self._feed(self.transceiver.sender, self._primary_rid)
        for rid, extra in self.extras.items():
            self._feed(extra, rid)

    def pause(self) -> None:
        """Send nothing (unpublished); the senders stay, and the sources are not stopped."""
        self._sending = False
        self.transceiver.sender.replaceTrack(None)
        for extra in self.extras.values():
            extra.replaceTrack(None)

    def set_active(self, states: list[dict]) -> None:
        """The server's `media.encodings`: `[{rid, active}]`. A paused encoding's sender
        gets no track; a resumed one gets its source back, starting at a keyframe."""
        for state in states:
            rid, active = state.get("rid"), bool(state.get("active", True))
            if rid not in self.source.encodings or active == (rid not in self.inactive):
                continue
            if active:
                self.inactive.discard(rid)
                self.source.encodings[rid].request_keyframe()
            else:
                self.inactive.add(rid)
            sender = (self.transceiver.sender if rid == self._primary_rid
                      else self.extras.get(rid))
            if sender is not None and self._sending:
                self._feed(sender, rid)

    def _feed(self, sender: RTCRtpSender, rid: str) -> None:
        """Give `sender` the source of `rid`, or nothing while that encoding is paused."""
        sender.replaceTrack(None if rid in self.inactive else self.source.encodings[rid])

    def offer(self, sdp: str) -> str:
        """The offer to send the server: this transceiver's section offers simulcast,
        with the same RID extension id in every offer of the connection (an id that
        changed would leave the packets already written with the old one unreadable)."""
        sdp = offer_simulcast(sdp, self.mid, self.source.rids, rid_id=self._offered_id,
                              avoid=_AIORTC_EXTENSION_IDS)
        self._offered_id = extmap_id(sdp, self.mid, RID_URI)
        return sdp

    def answered(self, sdp: str) -> None:
        """Read the server's answer: simulcast with the RIDs it takes, or one encoding."""
        rids = [r for r in accepted_rids(sdp, self.mid) if r in self.source.encodings]
        rid_id = extmap_id(sdp, self.mid, RID_URI) if rids else None
        self.accepted, self._rid_id = rids, rid_id
        primary_rid = rids[-1] if rids else self.source.rids[-1]
        sender = self.transceiver.sender
        if primary_rid != self._primary_rid and self._sending:
            self._primary_rid = primary_rid
            self._feed(sender, primary_rid)
        self._primary_rid = primary_rid
        self._stamp.stamp(primary_rid if rids else None, rid_id)
        for rid in [r for r in self.extras if r not in rids[:-1]]:
            self._spawn_stop(self.extras.pop(rid))
        for rid, extra in self.extras.items():  # the answer's id, for every encoding
            extra._RTCRtpSender__rtp_header_extensions_map.stamp(rid, rid_id)
        if self._parameters is not None:
            self._start_extras()

    def _negotiated(self, parameters: RTCRtpSendParameters) -> None:
        """The transceiver's sender starts (DTLS is up): the others can start too."""
        self._parameters = parameters
        self._start_extras()

    def _start_extras(self) -> None:
        parameters = self._parameters
        primary = self.transceiver.sender
        codecs = [c for c in parameters.codecs if c.mimeType.lower() != "video/rtx"]
        for rid in self.accepted[:-1]:
            if rid in self.extras:
                continue
            source = (self.source.encodings[rid]
                      if self._sending and rid not in self.inactive else None)
            extra = RTCRtpSender(source or "video", primary.transport)
            _stamp_rid(extra).stamp(rid, self._rid_id)
            sender_hooks.hook_keyframe_requests(extra, lambda rid=rid: self._keyframe(rid))
            sender_hooks.hook_vp8_layers(extra, self._layer_of(rid))
            self.extras[rid] = extra
            asyncio.ensure_future(extra.send(RTCRtpSendParameters(
                codecs=codecs, headerExtensions=parameters.headerExtensions,
                muxId=parameters.muxId,
                rtcp=RTCRtcpParameters(cname=parameters.rtcp.cname, mux=True,
                                       ssrc=extra._ssrc))))

    def _keyframe(self, rid: str) -> None:
        """A keyframe request for the SSRC that sends `rid`."""
        source = self.source.encodings.get(rid)
        if source is not None:
            source.request_keyframe()

    def _layer_of(self, rid: str):
        def layer_of(packet):
            source = self.source.encodings[rid]
            return source.layer_of(packet) if source.temporal_pattern else None
        return layer_of

    def _primary_layer(self, packet):
        return self._layer_of(self._primary_rid)(packet)

    def ssrcs(self) -> dict[str, int]:
        """RID -> the SSRC it is sent on (only the highest when simulcast is refused)."""
        out = {rid: extra._ssrc for rid, extra in self.extras.items()}
        out[self._primary_rid] = self.transceiver.sender._ssrc
        return out

    @staticmethod
    def _spawn_stop(extra: RTCRtpSender) -> None:
        extra.replaceTrack(None)  # aiortc stops the track its sender ends with
        asyncio.ensure_future(extra.stop())

    async def stop(self) -> None:
        """Stop the extra senders (the transceiver's own stops with its connection); the
        sources are left running, to be published again."""
        self.transceiver.sender.replaceTrack(None)
        extras, self.extras = list(self.extras.values()), {}
        for extra in extras:
            extra.replaceTrack(None)
            with contextlib.suppress(Exception):
                await within(extra.stop(), 2)
