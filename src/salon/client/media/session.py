"""Media for the Python client: publish tracks and receive others', over the realtime
protocol's media requests (docs/protocol.md "Media"), with aiortc.

Two peer connections, as in the browser SDK: on `publish` this side offers; on
`subscribe` the server offers and this side answers. Frames received are counted
without decoding unless the session is made with `decode=True`.
"""

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiortc import MediaStreamTrack, RTCRtpSender, RTCSessionDescription

from salon.client.media.remote import RemoteTrack, frame_counter
from salon.client.media.simulcast import SimulcastSender, SimulcastSource
from salon.client.media.voices import VoiceListening
from salon.client.realtime import RealtimeClient
from salon.media.embedded import hooks, sender_hooks

log = logging.getLogger("salon.client.media")


def _prefer(transceiver, kind: str, codec: str | None) -> None:
    """Put the wanted codec first (VP8 unless the track says H.264; Opus for audio)."""
    wanted = {"audio": "audio/opus", "video": f"video/{codec or 'VP8'}"}[kind].lower()
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    first = [c for c in codecs if c.mimeType.lower() == wanted]
    if first:
        transceiver.setCodecPreferences(first + [c for c in codecs if c not in first
                                                 and c.mimeType.lower().endswith("/rtx")])


class MediaSession(VoiceListening):
    """One peer's media: its published tracks and the tracks it receives (and, for
    salon's bots, `VoiceListening`)."""

    def __init__(self, peer: RealtimeClient, *, decode: bool = False,
                 count_only: bool = False) -> None:
        config = peer.joined.get("media") or {}
        if not config.get("enabled", False):
            raise RuntimeError("The server has media turned off for this meeting.")
        self.peer = peer
        self.decode = decode
        #: Count frames from RTP headers (marker bits) and keep no frame: the cheapest
        #: receiver, for load generators; `RemoteTrack.frames()` then yields nothing.
        self.count_only = count_only and not decode
        self.ice_servers: list[dict] = config.get("ice_servers", [])
        self.ice_policy: str = config.get("ice_transport_policy", "all")
        self.max_video_streams: int = config.get("max_video_streams", 6)
        self.pub_pc = None
        self.sub_pc = None
        self.senders: dict[str, Any] = {}       # kind -> transceiver
        self.sources: dict[str, MediaStreamTrack | SimulcastSource] = {}
        #: kind -> the sender of a camera published as simulcast (`accepted`: its RIDs
        #: the server takes, [] when it sends one encoding)
        self.simulcast: dict[str, SimulcastSender] = {}
        self.published: dict[str, dict[str, Any]] = {}
        self.remotes: dict[str, RemoteTrack] = {}
        self.mids: dict[str, dict[str, Any] | None] = {}
        self.revision = 0
        #: The voices `listen_to` had the server take last (None: none yet), and when
        #: it may ask again after a refusal for rate.
        self._voices: frozenset[str] | None = None
        self._listen_again_at = float("-inf")
        self._offers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._answering = self._spawn(self._answer_offers())
        #: Between `meeting.changing` and `meeting.changed`: offers are the old room's.
        self.leaving = False
        self._missed_offer = False  # one dropped while leaving: the server still waits
        peer.listen({"media.subscribe_offer": self._offered})
        peer.watchers.setdefault("meeting.changing", []).append(self._moving)
        peer.watchers.setdefault("meeting.change_failed", []).append(self._stayed)
        peer.watchers.setdefault("meeting.changed", []).append(self._moved)
        # resumed on another node (cluster failover): start media over there, as after a move
        peer.watchers.setdefault("resumed.elsewhere", []).append(self._taken_over)
        peer.watchers.setdefault("media.encodings", []).append(self._encodings_asked)

    @classmethod
    async def attach(cls, peer: RealtimeClient, *, decode: bool = False,
                     count_only: bool = False,
                     ice_hosts: list[str] | None = None) -> "MediaSession":
        """Media for a joined peer. `ice_hosts` picks the local addresses to gather
        (process-wide); by default every interface but loopback, or loopback if that is
        all there is."""
        hooks.install()
        if ice_hosts:
            hooks.use_host_addresses(ice_hosts)
        else:
            hooks.fall_back_to_loopback()
        return cls(peer, decode=decode, count_only=count_only)

    def _spawn(self, coro) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, kind: str,
                      track: MediaStreamTrack | SimulcastSource) -> dict[str, Any]:
        """Send `track` as this peer's `kind` ("audio", "video" or "screenshare").

        A track whose `recv()` returns `av.Packet` is sent as it is (no encoder runs); if
        it has `request_keyframe()`, the subscribers' keyframe requests reach it. A
        `SimulcastSource` is offered as simulcast (one SSRC per encoding); if the
        server's answer does not take it, its highest encoding alone is sent.
        """
        if self.pub_pc is None:
            self.pub_pc = hooks.new_peer_connection(self.ice_servers, self.ice_policy)
        layered = isinstance(track, SimulcastSource)
        transceiver = self.senders.get(kind)
        if transceiver is not None and layered != (kind in self.simulcast):
            raise ValueError(f"{kind} was published {'as one encoding' if layered else 'as simulcast'}"
                             " on this connection: publish it the same way")
        if transceiver is None and layered:
            highest = track.encodings[track.rids[-1]]
            transceiver = self.pub_pc.addTransceiver(highest, direction="sendonly")
            # VP8 alone, no RTX: see salon.client.media.simulcast
            transceiver.setCodecPreferences(
                [c for c in RTCRtpSender.getCapabilities("video").codecs
                 if c.mimeType.lower() == "video/vp8"])
            self.simulcast[kind] = SimulcastSender(transceiver, track)
            self.senders[kind] = transceiver
        elif transceiver is None:
            transceiver = self.pub_pc.addTransceiver(track, direction="sendonly")
            _prefer(transceiver, track.kind, getattr(track, "codec", None))
            sender_hooks.hook_keyframe_requests(transceiver.sender,
                                         lambda: self._keyframe_asked(kind))
            if track.kind == "audio" and hasattr(track, "level_of"):
                sender_hooks.hook_audio_level(transceiver.sender, track.level_of)
            if getattr(track, "temporal_pattern", None) is not None:
                sender_hooks.hook_vp8_layers(transceiver.sender, track.layer_of)
            self.senders[kind] = transceiver
        elif layered:
            self.simulcast[kind].replace(track)
            transceiver.direction = "sendonly"
        else:
            transceiver.sender.replaceTrack(track)
            transceiver.direction = "sendonly"
        self.sources[kind] = track
        try:
            return await self._offer(kinds={*self.published, kind})
        except BaseException:
            self.sources.pop(kind, None)
            raise

    def _keyframe_asked(self, kind: str) -> None:
        source = self.sources.get(kind)
        if source is not None and hasattr(source, "request_keyframe"):
            source.request_keyframe()

    async def _offer(self, kinds: set[str]) -> dict[str, Any]:
        pc = self.pub_pc
        await pc.setLocalDescription(await pc.createOffer())
        tracks = {str(self.senders[k].mid): k for k in kinds}
        sdp = pc.localDescription.sdp
        for layered in self.simulcast.values():  # aiortc writes no simulcast itself
            sdp = layered.offer(sdp)
        reply = await self.peer.request("media.publish", sdp=sdp, tracks=tracks)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
        for layered in self.simulcast.values():
            layered.answered(reply["sdp"])
        for info in reply["tracks"]:
            self.published[info["kind"]] = info
        return reply

    def _encodings_asked(self, data: dict[str, Any]) -> None:
        """The server pauses or resumes encodings of a simulcast camera (nobody takes
        them, or someone does again)."""
        for kind, info in self.published.items():
            if info.get("track_id") == data.get("track_id") and kind in self.simulcast:
                self.simulcast[kind].set_active(data.get("encodings") or [])

    async def unpublish(self, kind: str) -> None:
        await self.peer.request("media.unpublish", kinds=[kind])
        self.published.pop(kind, None)
        self.sources.pop(kind, None)
        transceiver = self.senders.get(kind)
        if kind in self.simulcast:
            self.simulcast[kind].pause()
        elif transceiver is not None:
            transceiver.sender.replaceTrack(None)

    async def set_enabled(self, kind: str, on: bool) -> dict[str, Any]:
        """Mute or unmute a published kind: the server pauses forwarding at once."""
        return await self.peer.request("self.media", **{kind: on})

    # --- following a move between connected meetings -------------------------------------

    def _offered(self, offer: dict[str, Any]) -> None:
        if self.leaving:  # the old room's, made before the move began
            self._missed_offer = True
        else:
            self._offers.put_nowait(offer)

    def _moving(self, _changing: dict[str, Any]) -> None:
        """A move begins: offers still queued, and those to come until `meeting.changed`,
        are the old room's (docs/protocol.md, Connected meetings)."""
        self.leaving = True
        while not self._offers.empty():
            self._offers.get_nowait()
            self._missed_offer = True

    def _stayed(self, _failed: dict[str, Any]) -> None:
        """The move failed: still the old room's peer, whose connections are as they were;
        an offer left unanswered meanwhile is made again after a reset."""
        self.leaving = False
        if self._missed_offer:
            self._spawn(self._reset_subscribe())
        self._missed_offer = False

    async def _reset_subscribe(self) -> None:
        try:
            await self.peer.request("media.reset", pc="subscribe")  # offers again, at 1
        except Exception as exc:
            log.warning("could not reset the subscribe connection: %s", exc)

    def _moved(self, changed: dict[str, Any]) -> None:
        """The peer now lives in another meeting (docs/breakout-rooms.md): the server closed
        its media in the old one. Publish again there whatever is still on; the new room's
        first subscribe offer (revision 1) starts a new subscribe connection by itself.
        The old room's tracks are forgotten (their peers' ids are the old room's)."""
        self.leaving = self._missed_offer = False
        self.remotes.clear()
        self.mids = {}
        self._voices = None  # the new room knows no subscription: `listen_to` sends again
        self._spawn(self._follow_move(changed))

    def _taken_over(self, joined: dict[str, Any]) -> None:
        """Resumed on the node that took the meeting over from a dead one (docs/cluster.md):
        its media server never saw this peer. Publish again everything that was sent (the
        new node knows nothing of what was on); its first offer starts subscribing anew."""
        self._voices = None
        self._spawn(self._follow_move(joined, keep_all=True))

    async def _follow_move(self, changed: dict[str, Any], keep_all: bool = False) -> None:
        config = changed.get("media") or {}
        self.ice_servers = config.get("ice_servers", self.ice_servers)
        self.max_video_streams = config.get("max_video_streams", self.max_video_streams)
        me = changed.get("self") or {}
        keep = {kind: self.sources[kind] for kind in self.published
                if kind in self.sources and (keep_all or me.get(kind))}
        for transceiver in self.senders.values():
            transceiver.sender.replaceTrack(None)  # closing must not stop our sources
        await self._stop_simulcast()
        if self.pub_pc is not None:
            with contextlib.suppress(Exception):
                await self.pub_pc.close()
        self.pub_pc = None
        self.senders.clear()
        self.published.clear()
        self.sources.clear()
        if not config.get("enabled", True):
            return
        for kind, source in keep.items():
            try:
                await self.publish(kind, source)
            except Exception as exc:  # e.g. the new room's preset forbids it
                log.warning("could not publish %s after the move: %s", kind, exc)

    async def _stop_simulcast(self) -> None:
        """Stop the extra senders of simulcast cameras (aiortc closes only its own)."""
        senders, self.simulcast = list(self.simulcast.values()), {}
        for layered in senders:
            await layered.stop()

    # --- receiving ------------------------------------------------------------------------

    async def subscribe(self, mode: str = "auto", track_ids: list[str] | None = None,
                        device: str | None = None) -> dict[str, Any]:
        """What to receive: `auto` (the preset's cap, for `device` if given) or exactly
        `track_ids` (`manual`)."""
        extra = {"device": device} if device else {}
        return await self.peer.request("media.subscribe", mode=mode,
                                       track_ids=track_ids or [], **extra)

    async def _answer_offers(self) -> None:
        while True:
            offer = await self._offers.get()
            try:
                await self._answer(offer)
            except Exception as exc:  # keep answering later offers
                log.warning("subscribe offer %s failed: %s", offer.get("revision"), exc)

    async def _answer(self, offer: dict[str, Any]) -> None:
        if self.sub_pc is not None and offer["revision"] <= self.revision:
            await self.sub_pc.close()  # the server started over (media.reset)
            self.sub_pc = None
        if self.sub_pc is None:
            self.sub_pc = hooks.new_peer_connection(self.ice_servers, self.ice_policy)
            self.sub_pc.on("track", self._on_track)
        self.revision = offer["revision"]
        self.mids = dict(offer["tracks"])
        for info in self.mids.values():
            if info is not None and info["track_id"] not in self.remotes:
                self.remotes[info["track_id"]] = RemoteTrack(info, self.count_only)
        offered = {info["track_id"] for info in self.mids.values() if info is not None}
        for track_id, remote in self.remotes.items():
            remote.ended = track_id not in offered  # unpublished, peer gone, unsubscribed
        pc = self.sub_pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.peer.request("media.subscribe_answer", sdp=pc.localDescription.sdp,
                                revision=offer["revision"])

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next((t for t in self.sub_pc.getTransceivers()
                            if t.receiver.track is track), None)
        if transceiver is None:
            return
        mid = str(transceiver.mid)
        if self.count_only:
            hooks.forward_rtp(transceiver.receiver,
                              frame_counter(lambda: self.mids.get(mid), self.remotes))
            return
        hooks.renack(transceiver.receiver)
        if not self.decode:
            hooks.mark_passthrough(track)
        self._spawn(self._pump(mid, track))

    async def _pump(self, mid: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                info = self.mids.get(mid)
                if info is None:
                    continue  # an idle m-line's last frame
                remote = self.remotes.get(info["track_id"])
                if remote is None:
                    remote = self.remotes[info["track_id"]] = RemoteTrack(info)
                if self.decode:
                    keyframe = bool(getattr(frame, "key_frame", False))
                    size = 0
                else:
                    keyframe = bool(getattr(frame, "is_keyframe", False))
                    size = frame.size
                remote._arrived(frame, keyframe, size)

    async def wait_track(self, peer_id: str, kind: str, timeout: float = 10,
                         frames: int = 1) -> RemoteTrack:
        """The remote track `<peer_id>:<kind>` once `frames` frames of it have arrived."""
        track_id = f"{peer_id}:{kind}"
        deadline = time.monotonic() + timeout
        while True:
            remote = self.remotes.get(track_id)
            if remote is not None and remote.counters.frames >= frames:
                return remote
            if time.monotonic() > deadline:
                got = remote.counters.frames if remote else "no track"
                raise TimeoutError(f"{track_id}: {got} after {timeout} s")
            await asyncio.sleep(0.02)

    def receiving(self) -> set[str]:
        """Track ids on this peer's active m-lines, per the latest offer."""
        return {info["track_id"] for info in self.mids.values() if info is not None}

    async def stats(self) -> dict[str, Any]:
        return {tid: {"frames": r.counters.frames, "keyframes": r.counters.keyframes,
                      "bytes": r.counters.bytes, "fps": round(r.counters.fps, 2)}
                for tid, r in self.remotes.items()}

    async def close(self) -> None:
        self.peer.listeners.pop("media.subscribe_offer", None)
        for event, watcher in (("meeting.changing", self._moving),
                               ("meeting.change_failed", self._stayed),
                               ("meeting.changed", self._moved),
                               ("resumed.elsewhere", self._taken_over),
                               ("media.encodings", self._encodings_asked)):
            watchers = self.peer.watchers.get(event, [])
            if watcher in watchers:
                watchers.remove(watcher)
        for task in list(self._tasks):
            task.cancel()
        await self._stop_simulcast()
        for pc in (self.pub_pc, self.sub_pc):
            if pc is not None:
                with contextlib.suppress(Exception):
                    await pc.close()
        self.pub_pc = self.sub_pc = None
