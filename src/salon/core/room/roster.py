"""Who is in a room, indexed so that a join or a leave costs the same whatever the
room's size: the joined peers in admission order, each participant's peers, the
followers (the non-audience peers a large room's audience hears of one by one) and the
counts. `Room` is a Roster; its commands keep these through `_enroll`, `_seat`,
`_count_in`, `_unseat` and `_unenroll`, and call `forget_followers` when someone's stage
status or rights change (`Room.announce_update`, `Room.tell_self`).
"""

from salon.core.room import audience
from salon.core.room.audience import AudienceLedger, is_audience
from salon.core.room.peer import Peer


class Roster:
    def __init__(self) -> None:
        self.peers: dict[str, Peer] = {}
        #: The joined peers, in admission order: kept beside `peers` so that a join or
        #: a leave costs the same whatever the room's size.
        self._joined: dict[str, Peer] = {}
        #: Peers (joined or waiting) by participant: a participant's other tabs.
        self._by_participant: dict[str, dict[str, Peer]] = {}
        self._admissions = 0
        #: At this many participants the room is large (core/room/audience.py); None:
        #: never. The live layer sets it from `SALON_LARGE_ROOM_THRESHOLD`.
        self.large_threshold: int | None = None
        self.audience = AudienceLedger()
        #: Joined peers that are not audience (stage, hosts, group-call peers), cached:
        #: the viewers of an audience member in a large room. None: to recompute.
        self._followers: set[str] | None = None
        #: `counts()` cached, kept up to date by joins and leaves; None: to recompute.
        self._counts: dict[str, int] | None = None

    # --- bookkeeping (Room's commands call these) ----------------------------------------

    def _enroll(self, peer: Peer) -> None:
        """A peer arrives (waiting or about to be admitted)."""
        self.peers[peer.peer_id] = peer
        self._by_participant.setdefault(peer.participant_id, {})[peer.peer_id] = peer

    @property
    def admissions(self) -> int:
        """How many peers were ever admitted: the last joining number given."""
        return self._admissions

    def _seat(self, peer: Peer) -> None:
        """The peer is admitted: it joins the joining order."""
        self._admissions += 1
        peer.join_seq = self._admissions
        self._joined[peer.peer_id] = peer

    def _count_in(self, peer: Peer) -> None:
        """Its stage status is settled: the followers and counts take it in."""
        if not is_audience(peer) and self._followers is not None:
            self._followers.add(peer.peer_id)
        if self._counts is not None:
            audience.count_in(self._counts, peer, 1)

    def _unseat(self, peer: Peer) -> None:
        del self._joined[peer.peer_id]
        if self._followers is not None:
            self._followers.discard(peer.peer_id)
        if self._counts is not None:
            audience.count_in(self._counts, peer, -1)

    def _unenroll(self, peer: Peer) -> None:
        self.peers.pop(peer.peer_id, None)
        mine = self._by_participant.get(peer.participant_id, {})
        mine.pop(peer.peer_id, None)
        if not mine:
            self._by_participant.pop(peer.participant_id, None)

    # --- queries ---------------------------------------------------------------------------

    @property
    def joined(self) -> list[Peer]:
        """Joined peers in admission order."""
        return list(self._joined.values())

    @property
    def present(self) -> list[Peer]:
        """Joined peers that count as participants: hidden ones (recorders) do not keep
        a session alive or start its keep-alive window by leaving."""
        return [peer for peer in self._joined.values() if not peer.hidden]

    def _anyone_present(self) -> bool:
        return any(not peer.hidden for peer in self._joined.values())

    @property
    def is_large(self) -> bool:
        """At or past the threshold (hidden peers count too: cheap, and they are few)."""
        return self.large_threshold is not None and len(self._joined) >= self.large_threshold

    def followers(self) -> set[str]:
        """Joined peers that are not audience: everyone hears of them one by one, and
        they hear of everyone."""
        if self._followers is None:
            self._followers = {p.peer_id for p in self._joined.values() if not is_audience(p)}
        return self._followers

    def forget_followers(self) -> None:
        """Someone's stage status or rights may have changed: recompute on next use."""
        self._followers = None
        self._counts = None

    def counts(self) -> dict[str, int]:
        """{participants, on_stage, audience}: see `audience.counts`."""
        if self._counts is None:
            self._counts = audience.count_all(self._joined.values())
        return dict(self._counts)

    def peers_of(self, participant_id: str) -> list[Peer]:
        """The participant's peers here (joined or waiting), without a scan of the room."""
        return list(self._by_participant.get(participant_id, {}).values())

    def viewers_of(self, subject: Peer) -> set[str]:
        """Joined peers other than `subject` that may see it (nobody sees a hidden peer)."""
        if subject.hidden:
            return set()
        if self.is_large and is_audience(subject):
            return self.followers() - {subject.peer_id}
        return self.everyone(but=subject.peer_id)

    def everyone(self, *, but: str | None = None) -> set[str]:
        everyone = set(self._joined)
        everyone.discard(but)  # type: ignore[arg-type]
        return everyone

    def waitlist_managers(self) -> set[str]:
        # Managers have host rights, so they are among the followers (few).
        return {i for i in self.followers()
                if self._joined[i].permissions.accept_waiting_requests}

    def stage_managers(self) -> set[str]:
        return {i for i in self.followers() if self._joined[i].manages_stage}
