"""The waiting room's commands: list, admit, reject (a mixin of `Room`).

Admitting everyone at once is one command: thousands waiting are admitted in one step,
each admission costing the same whatever the room's size (core/room/roster.py).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from salon.core.room.errors import forbidden, invalid, not_found
from salon.core.room.outcome import Outcome
from salon.core.room.peer import Peer

if TYPE_CHECKING:
    from salon.core.room.room import Room

#: WebSocket close code of a peer rejected from the waiting room.
CLOSE_REJECTED = 4004


class WaitingRoom:
    def _waitlist_actor(self: "Room", peer_id: str | None) -> Peer | None:
        """The peer managing the waiting room; None is the operator over REST, who may."""
        if peer_id is None:
            return None
        peer = self.actor(peer_id)
        if not peer.permissions.accept_waiting_requests:
            raise forbidden("manage the waiting room", "accept_waiting_requests")
        return peer

    def _waiting_targets(self: "Room", peer_ids: Iterable[str] | None) -> list[Peer]:
        if peer_ids is None:
            return self.waiting
        found = []
        for peer_id in dict.fromkeys(peer_ids):
            peer = self.peers.get(peer_id)
            if peer is None or peer.joined:
                raise not_found(f"No peer {peer_id} in the waiting room.")
            found.append(peer)
        if not found:
            raise invalid("Name at least one peer in 'peer_ids', or set 'all'.")
        return found

    def list_waiting(self: "Room", peer_id: str) -> Outcome:
        self._waitlist_actor(peer_id)
        return Outcome(reply={"waiting": [p.waiting_view() for p in self.waiting]})

    def admit_waiting(self: "Room", peer_id: str | None, peer_ids: Iterable[str] | None,
                      now: datetime) -> Outcome:
        """Admit the named waiting peers, or everyone waiting when `peer_ids` is None."""
        self._waitlist_actor(peer_id)
        targets = self._waiting_targets(peer_ids)
        out = Outcome(reply={"admitted": [p.peer_id for p in targets]})
        for target in targets:
            if target.peer_id in self.peers and not target.joined:
                self._admit_waiting(target, now, out)
        return out

    def reject_waiting(self: "Room", peer_id: str | None, peer_ids: Iterable[str] | None,
                       now: datetime) -> Outcome:
        self._waitlist_actor(peer_id)
        targets = self._waiting_targets(peer_ids)
        out = Outcome(reply={"rejected": [p.peer_id for p in targets]})
        for target in targets:
            out.send("self.rejected", {}, {target.peer_id})
            out.close(target.peer_id, CLOSE_REJECTED, "rejected from the waiting room")
            self.depart(target, now, "rejected", out)
        return out
