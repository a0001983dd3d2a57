"""Who receives which track: the subscription planner (pure; docs/media-design.md §8).

By default (`auto`) a peer receives every audio track and every screenshare, and the
videos of its preset's `max_video_streams` most relevant peers: the pinned one first,
then the most recent speakers, then in order of joining. `manual` receives exactly the
tracks named, among those the peer may see, capped so one client cannot make the server
forward everything.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from salon.core.room.peer import Peer


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
