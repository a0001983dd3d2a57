"""The embedded media backend: an aiortc SFU in the server's own process and event loop.

It forwards encoded frames without decoding (pass-through receivers, pack-mode senders),
passes subscribers' keyframe requests to publishers, and stops forwarding the moment the
room says so: `enforce` and `set_forwarding` are flag flips, not negotiations.
"""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from salon.media.backend import (
    ClientConfig,
    MediaConflict,
    MediaEvents,
    MediaForbidden,
    MediaInvalid,
    MediaKind,
    MediaNotFound,
    PcRole,
    PublishAnswer,
    TrackInfo,
)
from salon.media.embedded import hooks
from salon.media.embedded.connection import MediaPeer
from salon.media.embedded.figures import Retired
from salon.media.embedded.forward import Published
from salon.media.embedded.speaker import WINDOW_SECS, ActiveSpeaker
from salon.media.settings import MediaSettings

log = logging.getLogger("salon.media")


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self.peers: dict[str, MediaPeer] = {}
        self.tracks: dict[str, Published] = {}
        self.speakers: dict[str, ActiveSpeaker] = {}
        self._speaker_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Figures of closed tracks and slots (see `figures`).
        self.retired = Retired()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        hooks.install()
        if self.settings.ice_hosts:
            hooks.use_host_addresses(self.settings.ice_hosts)
        elif hooks.fall_back_to_loopback() == ["127.0.0.1"]:
            log.warning("no network interface but loopback: ICE uses 127.0.0.1, which "
                        "browsers only accept with --allow-loopback-in-peer-connection")
        hooks.set_udp_receive_buffer(self.settings.udp_rcvbuf)
        self._speaker_task = asyncio.create_task(self._watch_speakers(), name="active speaker")

    async def stop(self) -> None:
        if self._speaker_task is not None:
            self._speaker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._speaker_task
        for peer_id in list(self.peers):
            await self.close_peer(peer_id)

    def client_config(self, peer_id: str) -> ClientConfig:
        servers = list(self.settings.ice_servers)
        if self.settings.turn_urls and self.settings.turn_secret:
            # coturn use-auth-secret: time-limited credentials, one user name per peer
            username = f"{int(time.time()) + self.settings.turn_ttl_secs}:{peer_id}"
            digest = hmac.new(self.settings.turn_secret.encode(), username.encode(),
                              hashlib.sha1).digest()
            servers.append({"urls": list(self.settings.turn_urls), "username": username,
                            "credential": base64.b64encode(digest).decode()})
        return ClientConfig(ice_servers=servers,
                            ice_transport_policy=self.settings.ice_transport_policy,
                            simulcast=True)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("media task failed", exc_info=task.exception())

    def _peer(self, peer_id: str) -> MediaPeer:
        peer = self.peers.get(peer_id)
        if peer is None:
            raise MediaConflict("Media is not open for this peer (join the session first).")
        return peer

    # --- transports -----------------------------------------------------------------------

    def open_peer(self, room_id: str, peer_id: str, events: MediaEvents) -> None:
        if peer_id not in self.peers:
            self.peers[peer_id] = MediaPeer(room_id, peer_id, events, self.retired,
                                            start_bps=self.settings.max_video_bitrate)

    async def close_peer(self, peer_id: str) -> None:
        peer = self.peers.pop(peer_id, None)
        if peer is None:
            return
        peer.closed = True
        for published in list(peer.published.values()):
            self._end(published, "left", peer.events)
        await peer.close_pc("publish")
        await peer.close_pc("subscribe")

    def _end(self, published: Published, reason: str, events: MediaEvents) -> None:
        """A track stops for good: free its subscribers' slots and say so."""
        info = published.info
        if self.tracks.get(info.track_id) is published:
            del self.tracks[info.track_id]
            for peer in self.peers.values():
                if peer.release(published):
                    self._spawn(peer.negotiate())
            events.track_ended(info.track_id, reason)

    async def publish(self, peer_id: str, sdp: str,
                      tracks: Mapping[str, MediaKind]) -> PublishAnswer:
        peer = self._peer(peer_id)
        if len(set(tracks.values())) != len(tracks):
            raise MediaInvalid("Each kind may be published on one m-line only.")
        for kind in tracks.values():
            if not peer.rights.get(kind, False):
                raise MediaForbidden(f"You may not publish {kind} now.")
        async with peer.lock:
            new: list[Published] = []
            answer, infos = await peer.publish(sdp, tracks, new.append)
            if peer.closed:
                raise MediaConflict("The peer left while publishing.")
            for kind in tracks.values():  # rights may have changed while we negotiated
                if not peer.rights.get(kind, False):
                    raise MediaForbidden(f"You may not publish {kind} now.")
            for published in new:
                old = self.tracks.get(published.info.track_id)
                if old is not None and old is not published:
                    self._end(old, "replaced", peer.events)
                published.max_bitrate = self.settings.max_video_bitrate
                self.tracks[published.info.track_id] = published
                peer.events.track_published(published.info)
        return PublishAnswer(answer, infos)

    async def unpublish(self, peer_id: str, kinds: Iterable[MediaKind]) -> None:
        peer = self._peer(peer_id)
        for kind in kinds:
            published = peer.published.pop(kind, None)
            if published is not None:
                self._end(published, "unpublished", peer.events)
                await published.close()

    async def subscribe_answer(self, peer_id: str, sdp: str, revision: int) -> None:
        peer = self._peer(peer_id)
        await peer.answer(sdp, revision)
        if peer.dirty:
            self._spawn(peer.negotiate())  # the next offer follows the answer's reply

    async def add_ice_candidate(self, peer_id: str, pc: PcRole,
                                candidate: dict | None) -> None:
        await self._peer(peer_id).add_candidate(pc, candidate)

    async def reset(self, peer_id: str, pc: PcRole) -> None:
        peer = self._peer(peer_id)
        if pc == "publish":
            for published in list(peer.published.values()):
                self._end(published, "failed", peer.events)
            await peer.close_pc("publish")
            return
        wanted = [slot.source for _, slot in peer.slots if slot.source is not None]
        await peer.close_pc("subscribe")
        peer.revision = 0
        for source in wanted:
            peer.slot_for(source)
        self._spawn(peer.negotiate())  # the offer follows the reply to media.reset

    # --- rules ----------------------------------------------------------------------------

    def enforce(self, peer_id: str, can_publish: Mapping[str, bool]) -> None:
        peer = self.peers.get(peer_id)
        if peer is None:
            return
        peer.rights = dict(can_publish)
        for kind, published in peer.published.items():
            allowed = peer.rights.get(kind, False)
            published.set_active(allowed=allowed)
            if allowed:
                published.stop_dropping()
            else:
                published.drop_after(self.settings.revoke_grace_secs)

    def set_forwarding(self, peer_id: str, kind: MediaKind, on: bool) -> None:
        peer = self.peers.get(peer_id)
        if peer is None:
            return
        peer.on[kind] = on
        published = peer.published.get(kind)
        if published is not None:
            published.set_active(forwarding=on)

    # --- subscriptions --------------------------------------------------------------------

    def subscribe(self, subscriber_id: str, track_ids: Iterable[str]) -> None:
        self._resubscribe(subscriber_id, track_ids, add=True)

    def unsubscribe(self, subscriber_id: str, track_ids: Iterable[str]) -> None:
        self._resubscribe(subscriber_id, track_ids, add=False)

    def _resubscribe(self, subscriber_id: str, track_ids: Iterable[str], *, add: bool) -> None:
        """Attach or free the subscriber's slots, then offer once for all the changes."""
        peer = self.peers.get(subscriber_id)
        if peer is None:
            return
        receiving = peer.receiving()
        changed = False
        for tid in track_ids:
            source = self.tracks.get(tid)
            if source is None:
                continue
            if add and tid not in receiving:
                peer.slot_for(source)
                changed = True
            elif not add and peer.release(source):
                changed = True
        if changed:
            self._spawn(peer.negotiate())

    def published(self, peer_id: str) -> list[TrackInfo]:
        peer = self.peers.get(peer_id)
        return [p.info for p in peer.published.values()] if peer else []

    def receiving(self, peer_id: str) -> set[str]:
        peer = self.peers.get(peer_id)
        return peer.receiving() if peer else set()

    def prefer(self, peer_id: str, data_saver: bool | None,
               heights: Mapping[str, int] | None) -> None:
        peer = self.peers.get(peer_id)
        if peer is None:
            return
        if data_saver is not None:
            peer.downlink.data_saver = data_saver
        if heights:
            peer.downlink.heights.update(heights)
            while len(peer.downlink.heights) > 200:  # tracks long gone
                del peer.downlink.heights[next(iter(peer.downlink.heights))]
        peer.downlink.apply()

    def backlog(self, subscriber_id: str, track_id: str, before: int,
                since: float | None = None) -> list[tuple[float, int, bytes]]:
        peer = self.peers.get(subscriber_id)
        slot = next((slot for _, slot in (peer.slots if peer else [])
                     if slot.source is not None and slot.source.info.track_id == track_id),
                    None)
        if slot is None:
            raise MediaNotFound(f"You do not receive track {track_id}.")
        if slot.source is not None and slot.source.backlog is None:
            raise MediaInvalid(f"Track {track_id} is not audio: only voices keep a backlog.")
        packets = slot.backlog(before, time.time(), since)
        if packets is None:
            raise MediaConflict(f"Nothing of track {track_id} has reached you yet; ask "
                                "after its first packet.")
        return packets

    def stats(self, peer_id: str) -> dict[str, Any]:
        peer = self.peers.get(peer_id)
        if peer is None:
            return {"tracks": [], "receiving": [], "estimate_bps": 0,
                    "probes": {"won": 0, "lost": 0, "copies": 0}}
        return {"tracks": [p.stats() for p in peer.published.values()],
                "estimate_bps": int(peer.downlink.estimate.value),
                "probes": peer.downlink.probe_figures(),
                "receiving": [{"track_id": slot.source.info.track_id, "mid": str(t.mid),
                               "sent": slot.sent, "dropped": slot.dropped,
                               "resent": slot.resent, "skipped": slot.skipped,
                               "layer": (slot.layers.limit if slot.layers else None),
                               "switches": (slot.layers.switches if slot.layers else 0),
                               **({"encoding": (slot.spatial.rid if slot.spatial else None),
                                   "encoding_switches": slot.spatial_switches}
                                  if slot.source.rids else {})}
                              for t, slot in peer.slots if slot.source is not None]}

    def figures(self) -> dict[str, dict[str, int]]:
        """Totals since start per kind of media ("audio", "video"): packets and bytes
        received and forwarded, loss, retransmissions, keyframe requests (`FIGURES`),
        live tracks and slots plus closed ones. Read at scrape time by
        salon.observability; walking the live objects costs only the scrape."""
        totals = {kind: dict(figures) for kind, figures in self.retired.by_kind.items()}
        for peer in self.peers.values():
            for published in peer.published.values():
                if published.retired is not None:  # not yet counted as closed
                    _add(totals[published.track.kind], published.figures())
            for _, slot in peer.slots:
                if slot.retired is not None:
                    _add(totals[slot.kind], slot.figures())
        return totals

    def counts(self) -> dict[str, int]:
        """Peers with media open, and tracks published now by kind."""
        out = {"peers": len(self.peers), "audio": 0, "video": 0, "slots": 0}
        for track in self.tracks.values():
            out[track.track.kind] = out.get(track.track.kind, 0) + 1
        for peer in self.peers.values():
            out["slots"] += sum(1 for _, slot in peer.slots if slot.source is not None)
        return out

    # --- active speaker -------------------------------------------------------------------

    async def _watch_speakers(self) -> None:
        while True:
            await asyncio.sleep(WINDOW_SECS)
            rooms: dict[str, list[tuple[str, list[int]]]] = {}
            events: dict[str, MediaEvents] = {}
            for peer in self.peers.values():
                room = rooms.setdefault(peer.room_id, [])
                audio = peer.published.get("audio")
                if audio is not None:  # the silent (a webinar's audience) add nothing
                    levels, audio.levels = (audio.levels if audio.active else []), []
                    room.append((peer.peer_id, levels))
                events[peer.room_id] = peer.events
            for room_id, levels in rooms.items():
                detector = self.speakers.setdefault(room_id, ActiveSpeaker())
                change = detector.window(levels)
                if change is not False:
                    try:
                        events[room_id].speaker(room_id, change)  # type: ignore[arg-type]
                    except Exception:
                        log.exception("speaker event failed")
            for room_id in set(self.speakers) - set(rooms):
                del self.speakers[room_id]


def _add(into: dict[str, int], figures: dict[str, int]) -> None:
    for name, value in figures.items():
        into[name] += value
