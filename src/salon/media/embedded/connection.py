"""One peer's two connections on the embedded backend: publish (the client offers) and
subscribe (the server offers, one negotiation at a time)."""

import asyncio
import logging
from collections.abc import Callable, Mapping

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.exceptions import InvalidStateError
from aiortc.sdp import candidate_from_sdp

from salon.media.backend import (
    MediaConflict,
    MediaEvents,
    MediaInvalid,
    MediaKind,
    PcRole,
    TrackInfo,
)
from salon.media.embedded import hooks, sender_hooks, simulcast_sdp
from salon.media.embedded.downlink import Downlink
from salon.media.embedded.figures import Retired
from salon.media.embedded.forward import Downstream, Published

log = logging.getLogger("salon.media")


def _mime(codec) -> str:
    return codec.mimeType if codec is not None else ""


def _capability(kind: str, mime: str, parameters: dict):
    """The sender capability matching a published codec exactly (H.264 profile too)."""
    best = None
    for codec in RTCRtpSender.getCapabilities(kind).codecs:
        if codec.mimeType.lower() != mime.lower():
            continue
        if mime.lower() != "video/h264":
            return codec
        wanted = (parameters.get("profile-level-id", "")[:2],
                  str(parameters.get("packetization-mode", "0")))
        have = (codec.parameters.get("profile-level-id", "")[:2],
                str(codec.parameters.get("packetization-mode", "0")))
        if have == wanted:
            return codec
        best = best or codec
    return best


class MediaPeer:
    """One peer on the embedded backend: what it may send (`rights`, `on`), the tracks it
    publishes, and the slots of its subscribe connection."""

    def __init__(self, room_id: str, peer_id: str, events: MediaEvents,
                 retired: Retired | None = None, start_bps: float = 2_500_000) -> None:
        self.room_id = room_id
        #: The backend's figures of closed tracks and slots (salon.observability).
        self.retired = retired
        self.peer_id = peer_id
        self.events = events
        self.rights: dict[str, bool] = {}
        self.on: dict[str, bool] = {}
        self.pub_pc: RTCPeerConnection | None = None
        self.sub_pc: RTCPeerConnection | None = None
        #: kind -> the track this peer publishes.
        self.published: dict[str, Published] = {}
        #: The subscribe connection's slots, in m-line order.
        self.slots: list[tuple[object, Downstream]] = []
        #: This peer's downlink: its bandwidth estimate and each video slot's layers.
        self.downlink = Downlink(lambda: [slot for _, slot in self.slots], start_bps)
        self.revision = 0
        self.offer_in_flight = False
        self.dirty = False
        self.activated: set[Downstream] = set()
        self.closed = False
        self.lock = asyncio.Lock()

    # --- publish --------------------------------------------------------------------------

    def _new_pc(self, role: PcRole) -> RTCPeerConnection:
        pc = hooks.new_peer_connection()  # the server gathers host candidates only

        @pc.on("connectionstatechange")
        def changed() -> None:
            if role == "subscribe" and pc.connectionState in ("failed", "closed"):
                for _, slot in self.slots:
                    slot.lane.unbind()  # its socket is going: the fast lane stops now
            if not self.closed and pc.connectionState in ("connected", "failed", "closed"):
                self.events.transport_state(self.peer_id, role, pc.connectionState)

        return pc

    async def publish(self, sdp: str, tracks: Mapping[str, MediaKind],
                      on_new: Callable[[Published], None]) -> tuple[str, list[TrackInfo]]:
        if self.pub_pc is None:
            self.pub_pc = self._new_pc("publish")
        pc = self.pub_pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:
            raise MediaInvalid(f"The publish offer could not be applied: {exc}") from exc
        by_mid = {t.mid: t for t in pc.getTransceivers()}
        # Simulcast (docs/media-design.md §6.10): accepted on the video m-lines published
        simulcast = {mid: offer for mid, offer in simulcast_sdp.offered(sdp).items()
                     if mid in tracks and tracks[mid] != "audio"}
        for mid, kind in tracks.items():
            transceiver = by_mid.get(mid)
            if transceiver is None:
                raise MediaInvalid(f"The offer has no m-line with mid {mid!r}.")
            media = "audio" if kind == "audio" else "video"
            if transceiver.kind != media:
                raise MediaInvalid(f"mid {mid!r} is {transceiver.kind}, not {kind}.")
            hooks.mark_passthrough(transceiver.receiver.track)
            if media == "audio":
                hooks.ask_opus_fec_dtx(transceiver)
            elif mid in simulcast:
                hooks.accept_simulcast_extensions(transceiver, simulcast[mid].rid_ext_id,
                                                  simulcast[mid].repaired_ext_id)
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        # every video m-line: a publisher whose simulcast offer was refused (or any
        # offer without a=ssrc lines) still reaches its receiver beside a screenshare
        for mid, kind in tracks.items():
            if kind != "audio":
                hooks.route_by_mid(by_mid[mid])
        infos: list[TrackInfo] = []
        for mid, kind in tracks.items():
            transceiver = by_mid[mid]
            codec = hooks.negotiated_codec(transceiver)
            if codec is None:
                raise MediaInvalid(f"No codec in common for mid {mid!r}.")
            if kind == "audio" and codec.mimeType.lower() != "audio/opus":
                raise MediaInvalid("Audio must be Opus.")
            current = self.published.get(kind)
            if current is not None and current.info.mid == mid:
                infos.append(current.info)
                continue
            if current is not None:
                await current.close()
            info = TrackInfo(f"{self.peer_id}:{kind}", self.peer_id, kind, codec.mimeType, mid)
            published = Published(info, transceiver.receiver.track, transceiver.receiver)
            published.payload_types = frozenset({codec.payloadType})
            if mid in simulcast:
                published.set_simulcast(simulcast[mid].rids)
            published.codec_parameters = dict(codec.parameters)
            published.allowed = self.rights.get(kind, False)
            published.forwarding = self.on.get(kind, False)
            published.retired = self.retired
            published.on_encodings = self._encodings_changed
            self.published[kind] = published
            infos.append(info)
            on_new(published)
        return simulcast_sdp.answer(pc.localDescription.sdp, simulcast), infos

    def _encodings_changed(self, published: Published) -> None:
        """Tell this publisher which of its simulcast encodings to send (pausing.py)."""
        if not self.closed:
            self.events.encodings(self.peer_id, published.info.track_id,
                                  published.encoding_states())

    # --- subscribe ------------------------------------------------------------------------

    def slot_for(self, source: Published) -> Downstream:
        """An idle slot of the same kind and codec, or a new m-line."""
        mime = source.info.codec
        for transceiver, slot in self.slots:
            if slot.idle and slot.codec_mime == mime:
                slot.attach(source)
                if transceiver.direction != "sendonly":
                    transceiver.direction = "sendonly"
                self.activated.add(slot)
                return slot
        if self.sub_pc is None:
            self.sub_pc = self._new_pc("subscribe")
        kind = "audio" if source.info.kind == "audio" else "video"
        slot = Downstream(kind, mime)
        slot.retired = self.retired
        transceiver = self.sub_pc.addTransceiver(slot, direction="sendonly")
        slot.bind(transceiver.sender)
        capability = _capability(kind, mime, source.codec_parameters)
        if capability is not None:
            transceiver.setCodecPreferences([capability])
        sender_hooks.hook_keyframe_requests(transceiver.sender, lambda: self._keyframe_asked(slot))
        sender_hooks.hook_feedback(transceiver.sender, self.downlink.on_loss, self.downlink.on_remb)
        slot.attach(source)
        self.slots.append((transceiver, slot))
        self.activated.add(slot)
        return slot

    def _keyframe_asked(self, slot: Downstream) -> None:
        slot.keyframe_requests += 1
        if slot.source is not None:
            # simulcast: the encoding it is waiting for, else the one it gets
            slot.source.request_keyframe(slot.spatial_target or slot.spatial)

    def release(self, source: Published) -> bool:
        for transceiver, slot in self.slots:
            if slot.source is source:
                slot.detach()
                transceiver.direction = "inactive"
                self.activated.discard(slot)
                return True
        return False

    def receiving(self) -> set[str]:
        return {slot.source.info.track_id for _, slot in self.slots if slot.source is not None}

    async def negotiate(self) -> None:
        """Offer the current slots; one offer in flight at a time, changes coalesced."""
        if self.closed or self.sub_pc is None:
            return
        if self.offer_in_flight:
            self.dirty = True
            return
        self.offer_in_flight = True
        self.dirty = False
        pc = self.sub_pc
        try:
            await pc.setLocalDescription(await pc.createOffer())
        except InvalidStateError:
            # The connection closed under us (the client went away, or it failed): the
            # peer leaving or a media.reset cleans up; there is nothing to offer on.
            self.offer_in_flight = False
            return
        except Exception:
            self.offer_in_flight = False
            if not self.closed and pc is self.sub_pc:
                log.exception("subscribe offer for %s failed", self.peer_id)
            return
        if self.closed or pc is not self.sub_pc:
            self.offer_in_flight = False  # closed or replaced (media.reset) meanwhile
            return
        self.revision += 1
        tracks = {str(t.mid): (slot.source.info if slot.source is not None else None)
                  for t, slot in self.slots}
        self.events.subscribe_offer(self.peer_id, pc.localDescription.sdp, self.revision,
                                    tracks)

    async def answer(self, sdp: str, revision: int) -> None:
        if self.sub_pc is None or not self.offer_in_flight or revision != self.revision:
            raise MediaConflict(f"Revision {revision} is not the offer waiting for an answer "
                                f"(latest is {self.revision}).")
        try:
            await self.sub_pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:
            raise MediaInvalid(f"The subscribe answer could not be applied: {exc}") from exc
        self.offer_in_flight = False
        for slot in self.activated:  # the subscriber now receives on these m-lines
            slot.start()
        self.activated.clear()
        self.downlink.apply()  # simulcast: each new slot's encoding, before feedback
        # A change that waited for this answer is offered next: the caller (the backend)
        # starts it after the answer's reply has gone out, as a reply comes before the
        # events its request caused.

    async def add_candidate(self, role: PcRole, candidate: dict | None) -> None:
        pc = self.pub_pc if role == "publish" else self.sub_pc
        if pc is None:
            raise MediaConflict(f"There is no {role} connection yet.")
        if candidate is None or not candidate.get("candidate"):
            await pc.addIceCandidate(None)
            return
        line = str(candidate["candidate"])
        try:
            parsed = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:")
                                        else line)
        except Exception as exc:
            raise MediaInvalid(f"Not an ICE candidate: {line[:80]!r}") from exc
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        if parsed.sdpMid is None and parsed.sdpMLineIndex is None:
            parsed.sdpMLineIndex = 0
        await pc.addIceCandidate(parsed)

    async def close_pc(self, role: PcRole) -> None:
        if role == "publish":
            pc, self.pub_pc = self.pub_pc, None
            for published in list(self.published.values()):
                await published.close()
            self.published.clear()
        else:
            pc, self.sub_pc = self.sub_pc, None
            self.downlink.close()
            for _, slot in self.slots:
                slot.close()
            self.slots.clear()
            self.offer_in_flight = False
            self.dirty = False
            self.activated.clear()
        if pc is not None:
            await pc.close()
