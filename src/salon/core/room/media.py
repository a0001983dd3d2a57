"""The room's media rules: who may start sending what, and who receives which track
(the subscription planner; docs/media-design.md §5, §8). Pure: no I/O.

By default (`auto`) a peer receives every audio track and every screenshare, and the
videos of its preset's `max_video_streams` most relevant peers: the pinned one first,
then the most recent speakers, then in order of joining. `manual` receives exactly the
tracks named, among those the peer may see, capped so one client cannot make the server
forward everything.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from salon.core.room.errors import RoomError, forbidden
from salon.core.room.outcome import Outcome
from salon.core.room.peer import Peer

if TYPE_CHECKING:
    from salon.core.room.room import Room


def may_not_send(peer: Peer, kind: str, action: str) -> RoomError:
    """The refusal for a kind `peer.may_publish` says no to, with the reason."""
    if peer.hidden:
        return RoomError("FORBIDDEN", f"You may not {action} {kind}: hidden participants "
                         "never appear, so they never send media.")
    if kind in peer.locked:
        return RoomError("FORBIDDEN", f"You may not {action} {kind}: a host turned it off "
                         "(a host's host.allow_media gives it back).")
    produce = getattr(peer.permissions.media, kind).can_produce
    if peer.uses_stage and produce != "NOT_ALLOWED":
        return RoomError("FORBIDDEN", f"You may not {action} {kind}: only peers on the "
                         "stage send media (stage.request, then stage.join once granted).")
    return forbidden(f"{action} {kind}", f"media.{kind}.can_produce")


def use_device(room: "Room", peer_id: str, device: str) -> None:
    """The peer says which device it is on: its auto cap becomes the preset's
    `max_video_streams` for that device."""
    peer = room.actor(peer_id)
    peer.max_video_streams = peer.video_stream_caps[device]


def check_publish(room: "Room", peer_id: str, kinds: Iterable[str]) -> None:
    """May this peer start sending these kinds? Raises RoomError if not."""
    peer = room.actor(peer_id)
    kinds = list(kinds)
    for kind in kinds:
        if not peer.may_publish(kind):  # type: ignore[arg-type]
            raise may_not_send(peer, kind, "publish")
    if "screenshare" in kinds and not peer.media["screenshare"]:
        sharing = sum(1 for p in room.joined if p.media["screenshare"])
        if sharing >= peer.max_screenshare_count:
            raise RoomError("CONFLICT", f"{sharing} screenshare(s) already running, the "
                            "most this meeting allows; ask someone to stop theirs.")


def mark_published(room: "Room", peer_id: str, kinds: Iterable[str], on: bool) -> Outcome:
    """Publishing or unpublishing turns the kinds on or off, as `self.media` would."""
    peer = room.actor(peer_id)
    changes = {kind: on and peer.may_publish(kind) for kind in kinds}  # type: ignore[arg-type]
    out = Outcome()
    if any(peer.media[kind] != value for kind, value in changes.items()):
        peer.media.update(changes)
        room.announce_update(peer, out)
    return out


class Track(Protocol):
    peer_id: str
    kind: str


@dataclass(frozen=True)
class Choice:
    mode: Literal["auto", "manual"] = "auto"
    track_ids: frozenset[str] = frozenset()


AUTO = Choice()
_EPOCH = datetime.min


def visible_tracks(peers: Mapping[str, Peer], viewer: Peer,
                   published: Mapping[str, Track]) -> dict[str, Track]:
    """Tracks the viewer may receive: others' tracks that are on, never hidden peers'."""
    visible = {}
    for tid, track in published.items():
        owner = peers.get(track.peer_id)
        if (owner is not None and owner is not viewer and owner.joined and not owner.hidden
                and owner.media.get(track.kind, False)):
            visible[tid] = track
    return visible


#: How many recent speakers the planner remembers for ranking videos.
SPEAKER_MEMORY = 8


def remember_speaker(speakers: list[str], peer_id: str) -> None:
    """`peer_id` spoke: first in `speakers` (newest first, at most SPEAKER_MEMORY)."""
    if peer_id in speakers:
        speakers.remove(peer_id)
    speakers.insert(0, peer_id)
    del speakers[SPEAKER_MEMORY:]


def plan(peers: Mapping[str, Peer], viewer: Peer, choice: Choice,
         published: Mapping[str, Track], speakers: Sequence[str], pinned: str | None,
         manual_cap: int) -> set[str]:
    """The track ids `viewer` should receive now."""
    if not viewer.joined:
        return set()
    visible = visible_tracks(peers, viewer, published)
    if choice.mode == "manual":
        chosen = [tid for tid in sorted(choice.track_ids) if tid in visible]
        videos = [tid for tid in chosen if visible[tid].kind == "video"]
        return set(chosen) - set(videos[manual_cap:])

    def rank(tid: str) -> tuple[bool, int, datetime]:
        owner = visible[tid].peer_id
        recent = speakers.index(owner) if owner in speakers else len(speakers)
        return (owner != pinned, recent, peers[owner].joined_at or _EPOCH)

    videos = sorted((tid for tid, t in visible.items() if t.kind == "video"), key=rank)
    others = {tid for tid, t in visible.items() if t.kind != "video"}
    return others | set(videos[:viewer.max_video_streams])
