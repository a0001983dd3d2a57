"""Who is in the room as the recorder sees it, and what the composite should show.

Fed by the realtime events (docs/protocol.md): `peer.joined`, `peer.left`,
`peer.updated` (media flags, name, stage status) and `media.speaker`. Pure state: the
engine applies events, the pipeline reads immutable `Scene` snapshots from another
thread.

Who is shown: when the meeting uses a stage (someone is ON_STAGE), the people on stage
and anyone sending media; otherwise everyone. The last active speaker stays emphasised
through silences (`media.speaker` with null), as in the meeting UI.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scene:
    #: Peer ids to show, in joining order.
    people: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    cameras_on: frozenset[str] = frozenset()
    speaker: str | None = None
    #: The peer whose screenshare takes the main area (the latest to start sharing).
    screenshare: str | None = None


class Roster:
    def __init__(self, peers: list[dict[str, Any]] | None = None) -> None:
        self.peers: dict[str, dict[str, Any]] = {}
        self.speaker: str | None = None
        self._sharing: list[str] = []
        for peer in peers or []:
            self._upsert(peer)

    def _upsert(self, view: dict[str, Any]) -> None:
        peer_id = view["peer_id"]
        self.peers[peer_id] = {**self.peers.get(peer_id, {}), **view}
        if view.get("screenshare"):
            if peer_id not in self._sharing:
                self._sharing.append(peer_id)
        elif peer_id in self._sharing:
            self._sharing.remove(peer_id)

    def _remove(self, peer_id: str) -> None:
        self.peers.pop(peer_id, None)
        if peer_id in self._sharing:
            self._sharing.remove(peer_id)
        if self.speaker == peer_id:
            self.speaker = None

    def apply(self, event: str, data: dict[str, Any]) -> bool:
        """Apply one event; True if what is shown may have changed."""
        if event in ("peer.joined", "peer.updated"):
            self._upsert(data["peer"])
        elif event == "peer.left":
            self._remove(data["peer_id"])
        elif event == "media.speaker":
            if data.get("peer_id") is None or data["peer_id"] not in self.peers:
                return False  # silence: keep emphasising the last speaker
            if data["peer_id"] == self.speaker:
                return False
            self.speaker = data["peer_id"]
        else:
            return False
        return True

    def participant_of(self, peer_id: str) -> dict[str, Any] | None:
        return self.peers.get(peer_id)

    def scene(self) -> Scene:
        staged = any(p.get("stage_status") == "ON_STAGE" for p in self.peers.values())
        people = tuple(
            peer_id for peer_id, p in self.peers.items()
            if not staged or p.get("stage_status") == "ON_STAGE"
            or p.get("audio") or p.get("video") or p.get("screenshare"))
        return Scene(
            people=people,
            names={peer_id: str(p.get("name") or "") for peer_id, p in self.peers.items()},
            cameras_on=frozenset(peer_id for peer_id, p in self.peers.items()
                                 if p.get("video")),
            speaker=self.speaker if self.speaker in people else None,
            screenshare=self._sharing[-1] if self._sharing else None)
