"""MediaSync: keeps a media backend equal to one room — rights, what is on, who receives
what — and turns the backend's reports into room events (docs/media-design.md §5).

It is the only code that reads room state and drives the backend. `RoomHost` calls
`reconcile` with every outcome before its events go out, so when a host turns someone's
video off, forwarding has stopped before anyone hears of it.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from salon.core.room import Outcome, Room
from salon.core.room.media import AUTO, Choice, plan, remember_speaker
from salon.core.room.peer import MEDIA_KINDS
from salon.media.backend import MediaBackend, PcRole, TrackInfo

log = logging.getLogger("salon.media")


class MediaSync:
    def __init__(self, room: Room, backend: MediaBackend,
                 carry_out: Callable[[Outcome], None], manual_cap: int) -> None:
        self.room = room
        self.backend = backend
        self._carry_out = carry_out
        self.manual_cap = manual_cap
        self.rights: dict[str, dict[str, bool]] = {}
        self.on: dict[str, dict[str, bool]] = {}
        self.published: dict[str, TrackInfo] = {}
        self.choices: dict[str, Choice] = {}
        self.received: dict[str, set[str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- room -> backend ------------------------------------------------------------------

    def reconcile(self, outcome: Outcome) -> None:
        for peer_id in outcome.media_touched:
            peer = self.room.peers.get(peer_id)
            if peer is None or not peer.joined:
                if self.rights.pop(peer_id, None) is not None:
                    self.on.pop(peer_id, None)
                    self.choices.pop(peer_id, None)
                    self.received.pop(peer_id, None)
                    self._spawn(self.backend.close_peer(peer_id))
                continue
            if peer_id not in self.rights:
                self.backend.open_peer(self.room.meeting_id, peer_id, self)
            rights = peer.publishing_rights()
            if rights != self.rights.get(peer_id):
                self.backend.enforce(peer_id, rights)  # stops forwarding now
                self.rights[peer_id] = rights
            before = self.on.get(peer_id, {})
            on = {kind: peer.media[kind] and rights[kind] for kind in MEDIA_KINDS}
            for kind in MEDIA_KINDS:
                if on[kind] != before.get(kind):
                    self.backend.set_forwarding(peer_id, kind, on[kind])
            self.on[peer_id] = on
        if outcome.media_replan or self._owns_tracks(outcome.media_touched):
            self.replan()
        elif outcome.media_touched:
            # Nobody touched has a track: what others receive cannot have changed, only
            # what the touched peers do (a join in a 3,000-peer room replans one, not all).
            self.replan(outcome.media_touched)

    def _owns_tracks(self, peer_ids: set[str]) -> bool:
        return any(info.peer_id in peer_ids for info in self.published.values())

    def replan(self, only: set[str] | None = None) -> None:
        """Bring each viewer's subscriptions in line with its plan: everyone's, or only
        those of the viewers in `only`."""
        viewers = (self.room.joined if only is None else
                   [p for i in only if (p := self.room.peers.get(i)) is not None and p.joined])
        for viewer in viewers:
            if viewer.peer_id not in self.rights:
                continue
            want = plan(self.room.peers, viewer, self.choices.get(viewer.peer_id, AUTO),
                        self.published, self.room.recent_speakers, self.room.pinned_peer_id,
                        self.manual_cap)
            have = self.received.get(viewer.peer_id, set())
            if want != have:
                if have - want:
                    self.backend.unsubscribe(viewer.peer_id, have - want)
                if want - have:
                    self.backend.subscribe(viewer.peer_id, want - have)
                self.received[viewer.peer_id] = want

    def choose(self, peer_id: str, choice: Choice) -> set[str]:
        self.choices[peer_id] = choice
        self.replan({peer_id})  # a choice changes what this viewer receives, no one else's
        return self.received.get(peer_id, set())

    def visible_to(self, peer_id: str) -> list[dict[str, Any]]:
        """Published tracks this peer may receive (whether or not it does)."""
        viewer = self.room.peers.get(peer_id)
        out = []
        for info in self.published.values():
            owner = self.room.peers.get(info.peer_id)
            if viewer is not None and owner is not None and owner is not viewer \
                    and not owner.hidden:
                out.append(info.wire())
        return out

    def close_all(self) -> list:
        return [self.backend.close_peer(peer_id) for peer_id in list(self.rights)]

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _send(self, event: str, data: dict[str, Any], to: set[str]) -> None:
        out = Outcome()
        out.send(event, data, to)
        self._carry_out(out)

    # --- backend -> room (MediaEvents) ----------------------------------------------------

    def subscribe_offer(self, peer_id: str, sdp: str, revision: int,
                        tracks: Mapping[str, TrackInfo | None]) -> None:
        wire = {mid: (info.wire() if info is not None else None) for mid, info in tracks.items()}
        self._send("media.subscribe_offer", {"sdp": sdp, "revision": revision, "tracks": wire},
                   {peer_id})

    def ice_candidate(self, peer_id: str, pc: PcRole, candidate: dict | None) -> None:
        self._send("media.ice", {"pc": pc, "candidate": candidate}, {peer_id})

    def track_published(self, track: TrackInfo) -> None:
        self.published[track.track_id] = track
        owner = self.room.peers.get(track.peer_id)
        if owner is not None and not owner.hidden:
            self._send("media.published", {"track": track.wire()},
                       self.room.everyone(but=track.peer_id))
        self.replan()

    def track_ended(self, track_id: str, reason: str) -> None:
        info = self.published.pop(track_id, None)
        if info is None:
            return
        for received in self.received.values():
            received.discard(track_id)  # the backend already freed the slots
        self._send("media.unpublished", {"track_id": track_id, "reason": reason},
                   self.room.everyone(but=info.peer_id))
        self.replan()

    def transport_state(self, peer_id: str, pc: PcRole, state: str) -> None:
        if peer_id in self.room.peers:
            self._send("media.transport", {"pc": pc, "state": state}, {peer_id})

    def encodings(self, peer_id: str, track_id: str, encodings: list[dict]) -> None:
        if peer_id in self.room.peers:
            self._send("media.encodings", {"track_id": track_id, "encodings": encodings},
                       {peer_id})

    def speaker(self, room_id: str, peer_id: str | None) -> None:
        if peer_id is not None and peer_id not in self.room.peers:
            return
        if peer_id is not None:
            remember_speaker(self.room.recent_speakers, peer_id)
        self._send("media.speaker", {"peer_id": peer_id}, self.room.everyone())
        self.replan()
