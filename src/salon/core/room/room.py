"""The room: one meeting's live state, and the session lifecycle rules.

A session starts when the first peer is admitted, goes idle when the last admitted peer
leaves, and ends when the gateway's keep-alive timer calls `expire` — unless someone was
admitted again in between, which resumes the same session. `kick_all` ends it at once.
Peers of the waiting room belong to the room but not (yet) to the session.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from salon.core.ids import new_uuid
from salon.core.room import audience
from salon.core.room.audience import is_audience
from salon.core.room.chat import ChatBoard
from salon.core.room.errors import RoomError, forbidden, invalid, not_found
from salon.core.room.media import may_not_send
from salon.core.room.outcome import Outcome, Record
from salon.core.room.peer import Peer, PeerStatus, StageStatus
from salon.core.room.plugins import PluginBoard
from salon.core.room.polls import PollBook
from salon.core.room.qna import QuestionBoard
from salon.core.room.roster import Roster
from salon.core.room.stores import StoreSet
from salon.core.room.waiting import CLOSE_REJECTED, WaitingRoom  # noqa: F401  (re-exported)

HOST_ENDED_MEETING = "HOST_ENDED_MEETING"
ALL_PARTICIPANTS_LEFT = "ALL_PARTICIPANTS_LEFT"

# WebSocket close codes the gateway uses for endings the room decides.
CLOSE_LEFT = 1000
CLOSE_KICKED = 4003
CLOSE_ENDED = 4005


class Room(Roster, WaitingRoom):
    def __init__(self, meeting_id: str, title: str | None) -> None:
        self.meeting_id = meeting_id
        self.title = title
        #: The meeting keeps every voice for a post-meeting transcript: peers are told.
        self.transcribe_on_end = False
        Roster.__init__(self)
        self.session_id: str | None = None
        self.session_started_at: datetime | None = None
        #: When the last admitted peer left; the keep-alive window runs from here.
        self.idle_since: datetime | None = None
        self.pinned_peer_id: str | None = None
        #: Who spoke recently, newest first (`media.speaker` naming a peer; silences
        #: keep it; media.remember_speaker): the planner ranks videos by it, and a peer
        #: that joins, resumes or records mid-meeting emphasises the first, as those
        #: there all along do (RoomState `last_speaker_peer_id`).
        self.recent_speakers: list[str] = []
        self.max_concurrent = 0
        #: A connected meeting's parent session, if live when this room's session
        #: starts: the new session is recorded as one of its `breakout_rooms`.
        self.parent_session_id: str | None = None
        #: The meeting's active recordings as peers see them (`recording.updated`), by id.
        self.recordings: dict[str, dict[str, Any]] = {}
        #: The meeting's running livestream as peers see it (`livestream.updated`).
        self.livestream: dict[str, Any] | None = None
        #: The last livestream view told to the peers (`livestream.updated`).
        self.livestream_told: dict[str, Any] | None = None
        self._fresh_features()

    def _fresh_features(self) -> None:
        """Collaboration state belongs to one session: a new session starts empty."""
        self.chat = ChatBoard()
        self.polls = PollBook()
        self.questions = QuestionBoard()
        self.plugins = PluginBoard()
        self.stores = StoreSet()

    # --- queries --------------------------------------------------------------------------

    @property
    def waiting(self) -> list[Peer]:
        return [peer for peer in self.peers.values() if not peer.joined]

    @property
    def is_live(self) -> bool:
        return self.session_id is not None

    @property
    def is_empty(self) -> bool:
        return not self.peers and not self.is_live

    def peer(self, peer_id: str) -> Peer:
        try:
            return self.peers[peer_id]
        except KeyError:
            raise not_found(f"No peer {peer_id} in this meeting.") from None

    def actor(self, peer_id: str) -> Peer:
        """The peer issuing a command; it must have been admitted."""
        peer = self.peer(peer_id)
        if not peer.joined:
            raise RoomError("NOT_JOINED", "You are in the waiting room; wait to be admitted.")
        return peer

    def targets(self, peer_ids: Iterable[str]) -> list[Peer]:
        """Joined peers named by a command; unknown or waiting ids are an error."""
        ids = list(dict.fromkeys(peer_ids))
        if not ids:
            raise invalid("Name at least one peer in 'peer_ids'.")
        found = []
        for peer_id in ids:
            peer = self.peers.get(peer_id)
            if peer is None or not peer.joined:
                raise not_found(f"No peer {peer_id} in the session.")
            found.append(peer)
        return found

    def host_targets(self, peer_ids: Iterable[str]) -> list[Peer]:
        """`targets` of a host's command (kick, media, permissions, the stage): salon's
        own bots (`Peer.is_bot`: a recording's or a livestream's recorder, the
        transcriber) are not found. They are in no list; stopping a recording is
        `can_record`'s, not `kick_participant`'s."""
        found = self.targets(peer_ids)
        for peer in found:
            if peer.is_bot:
                raise not_found(f"No peer {peer.peer_id} in the session.")
        return found

    def _visible_peers(self, viewer: Peer) -> tuple[list[Peer], str | None]:
        """The peers `viewer`'s RoomState lists, and the `peers.list` cursor after them.

        Everyone it may see, unless the room is large and it is audience: then the
        followers (stage, hosts), itself, and the first page of `peers.list` if it may
        list — a bounded size whatever the room's."""
        if not (self.is_large and is_audience(viewer)):
            return [p for p in self._joined.values()
                    if not p.hidden or p is viewer], None
        shown = {i: self._joined[i] for i in self.followers()
                 if not self._joined[i].hidden}
        shown[viewer.peer_id] = viewer
        cursor = None
        if audience.may_list(viewer):
            first = audience.page(self, viewer, limit=audience.FIRST_PAGE)
            cursor = first["next_cursor"]
            for view in first["peers"]:
                shown.setdefault(view["peer_id"], self._joined[view["peer_id"]])
        return sorted(shown.values(), key=lambda p: p.join_seq), cursor

    def _last_speaker(self) -> str | None:
        last = self.recent_speakers[0] if self.recent_speakers else None
        return last if last in self.peers else None  # gone: nobody to emphasise

    def state_for(self, viewer: Peer) -> dict[str, Any]:
        """The room as `viewer` may see it: hidden peers and the waiting room left out;
        in a large room an audience member sees the stage, the hosts and counts."""
        visible, cursor = self._visible_peers(viewer)
        large = self.is_large and is_audience(viewer)
        state: dict[str, Any] = {
            "session_id": self.session_id,
            "meeting": {"id": self.meeting_id, "title": self.title,
                        "transcribe_on_end": self.transcribe_on_end},
            "peers": [p.public_view(self.pinned_peer_id) for p in visible],
            "large": large,
            "counts": audience.counts(self),
            "pinned_peer_id": self.pinned_peer_id,
            "last_speaker_peer_id": self._last_speaker(),
            "plugins": self.plugins.views_for(viewer),
            "recordings": list(self.recordings.values()),
            "livestream": self.livestream,
        }
        if viewer.permissions.accept_waiting_requests:
            state["waiting"] = [p.waiting_view() for p in self.waiting]
        if viewer.manages_stage:
            state["stage_requests"] = self.stage_requests()
        if large and audience.may_list(viewer):
            state["peers_next_cursor"] = cursor
        return state

    def stage_requests(self) -> list[dict[str, Any]]:
        return [p.waiting_view() for p in self.joined
                if p.stage_status is StageStatus.REQUESTED_TO_JOIN_STAGE]

    # --- announcing changes ---------------------------------------------------------------

    def announce_update(self, peer: Peer, out: Outcome, *, to_everyone: bool = False) -> None:
        """A peer's public state changed: tell those who see it, and the peer itself.
        `to_everyone`: a move onto or off the stage, which the audience of a large room
        must hear of too (the peer enters or leaves what they follow)."""
        self.forget_followers()
        viewers = (self.everyone(but=peer.peer_id) if to_everyone and not peer.hidden
                   else self.viewers_of(peer))
        out.send("peer.updated", {"peer": peer.public_view(self.pinned_peer_id)}, viewers)
        self.tell_self(peer, out)

    def tell_self(self, peer: Peer, out: Outcome) -> None:
        self.forget_followers()  # its rights may have changed
        out.media_touched.add(peer.peer_id)
        out.send("self.updated", {"self": peer.self_view(self.pinned_peer_id)}, {peer.peer_id})

    def announce_stage_requests(self, out: Outcome) -> None:
        """The whole list to the stage managers. In a large room, once per audience
        flush however many asked meanwhile: per request it would grow with the square
        of the requests."""
        if self.is_large:
            self.audience.stage_requests = True
            return
        out.send("stage.requests", {"requests": self.stage_requests()}, self.stage_managers())

    # --- joining --------------------------------------------------------------------------

    def connect(self, peer: Peer, now: datetime, *, admit: bool = False) -> Outcome:
        """A peer arrives: admitted at once or put in the waiting room, by its preset.
        `admit` skips the waiting room (a peer moved here from a connected meeting)."""
        if peer.peer_id in self.peers:
            raise RoomError("CONFLICT", f"Peer {peer.peer_id} is already in the room.")
        peer.connected_at = now
        peer.status = PeerStatus.WAITING
        self._enroll(peer)
        out = Outcome()
        policy = peer.permissions.waiting_room_type
        host_present = bool(self.waitlist_managers())
        if admit or policy == "SKIP" or (policy == "ON_PRIVILEGED_USER_ENTRY"
                                         and host_present):
            self.admit(peer, now, out, announce_to_self=False)
            out.reply = {"status": "joined", "self": peer.self_view(self.pinned_peer_id),
                         "room": self.state_for(peer)}
        else:
            out.reply = {"status": "waiting", "self": peer.self_view(self.pinned_peer_id)}
            out.send("waitlist.added", {"peer": peer.waiting_view()}, self.waitlist_managers())
        return out

    def admit(self, peer: Peer, now: datetime, out: Outcome, *, announce_to_self: bool) -> None:
        """Move a peer into the session, starting or resuming the session if needed."""
        if not self.is_live:
            self.session_id = new_uuid()
            self.session_started_at = now
            self.max_concurrent = 0
            self._fresh_features()
            out.record(Record.SESSION_STARTED, now, session_id=self.session_id,
                       meeting_id=self.meeting_id, title=self.title,
                       parent_session_id=self.parent_session_id)
        elif self.idle_since is not None and not peer.hidden:
            out.record(Record.SESSION_RESUMED, now, session_id=self.session_id)
        if not peer.hidden:
            self.idle_since = None
        out.media_touched.add(peer.peer_id)
        peer.status = PeerStatus.JOINED
        peer.joined_at = now
        self._seat(peer)
        if peer.uses_stage:
            allowed = peer.permissions.stage_access == "ALLOWED"
            peer.stage_status = (StageStatus.ACCEPTED_TO_JOIN_STAGE if allowed
                                 else StageStatus.OFF_STAGE)
        else:
            peer.stage_status = StageStatus.ON_STAGE
        for kind, on in peer.media.items():
            peer.media[kind] = on and peer.may_publish(kind)  # type: ignore[arg-type]
        self._count_in(peer)
        if self.is_large:
            self.audience.note_join(peer)
        self.max_concurrent = max(self.max_concurrent, len(self._joined))
        out.record(Record.PEER_JOINED, now, session_id=self.session_id, peer_id=peer.peer_id,
                   connected_at=peer.connected_at or now,
                   participant_id=peer.participant_id, name=peer.name,
                   custom_participant_id=peer.custom_participant_id,
                   preset_name=peer.preset_name, view_type=peer.view_type,
                   live=len(self._joined), max_concurrent=self.max_concurrent)
        out.send("peer.joined", {"peer": peer.public_view(self.pinned_peer_id)},
                 self.viewers_of(peer))
        if announce_to_self:
            out.send("self.admitted", {"self": peer.self_view(self.pinned_peer_id),
                                       "room": self.state_for(peer)}, {peer.peer_id})
        if peer.hidden and not self._anyone_present() and self.idle_since is None:
            # A recorder alone is nobody: the keep-alive window runs from its arrival.
            self.idle_since = now
            out.record(Record.SESSION_IDLE, now, session_id=self.session_id)
        if peer.permissions.accept_waiting_requests:
            # A privileged peer is here: whoever waits for one comes in now.
            for waiting in self.waiting:
                if waiting.permissions.waiting_room_type == "ON_PRIVILEGED_USER_ENTRY":
                    self._admit_waiting(waiting, now, out)

    def _admit_waiting(self, peer: Peer, now: datetime, out: Outcome) -> None:
        out.send("waitlist.removed", {"peer_id": peer.peer_id, "reason": "admitted"},
                 self.waitlist_managers() - {peer.peer_id})
        self.admit(peer, now, out, announce_to_self=True)

    # --- leaving --------------------------------------------------------------------------

    def depart(self, peer: Peer, now: datetime, reason: str, out: Outcome) -> None:
        """Remove a peer for good and account for it."""
        self._unenroll(peer)
        out.media_touched.add(peer.peer_id)
        left_at = peer.disconnected_at or now
        if not peer.joined:
            out.send("waitlist.removed", {"peer_id": peer.peer_id, "reason": reason},
                     self.waitlist_managers())
            return
        large = self.is_large
        viewers = self.viewers_of(peer)  # as the room was: it was one of them
        self._unseat(peer)
        if large:
            self.audience.note_leave(peer)
        out.record(Record.PEER_LEFT, left_at, session_id=self.session_id, peer_id=peer.peer_id,
                   participant_id=peer.participant_id, name=peer.name,
                   custom_participant_id=peer.custom_participant_id, reason=reason,
                   joined_at=peer.joined_at, live=len(self._joined))
        out.send("peer.left", {"peer_id": peer.peer_id, "reason": reason}, viewers)
        if self.pinned_peer_id == peer.peer_id:
            self.pinned_peer_id = None
            out.send("room.pinned", {"peer_id": None}, self.everyone())
        if peer.stage_status is StageStatus.REQUESTED_TO_JOIN_STAGE:
            self.announce_stage_requests(out)
        if not self._anyone_present() and self.is_live and self.idle_since is None:
            self.idle_since = left_at
            out.record(Record.SESSION_IDLE, left_at, session_id=self.session_id)

    def leave(self, peer_id: str, now: datetime, reason: str = "left") -> Outcome:
        """The peer goes for good; its connection, if any, closes after the reply."""
        out = Outcome(reply={"left": True})
        self.depart(self.peer(peer_id), now, reason, out)
        out.close(peer_id, CLOSE_LEFT, reason)
        return out

    def disconnect(self, peer_id: str, now: datetime) -> None:
        """The socket dropped: keep the peer for the grace window, silently."""
        peer = self.peers.get(peer_id)
        if peer is not None and peer.disconnected_at is None:
            peer.disconnected_at = now

    def resume(self, peer_id: str) -> Outcome:
        """The same peer is back within the grace window: nobody else notices."""
        peer = self.peer(peer_id)
        peer.disconnected_at = None
        reply: dict[str, Any] = {"status": peer.status.value,
                                 "self": peer.self_view(self.pinned_peer_id)}
        if peer.joined:
            reply["room"] = self.state_for(peer)
        return Outcome(reply=reply)

    def expire(self, now: datetime) -> Outcome:
        """The keep-alive window passed with nobody admitted: the session ends."""
        out = Outcome()
        if self.is_live and not self.present:
            for hidden in self.joined:  # recorders go with the session
                out.send("room.ended", {"reason": ALL_PARTICIPANTS_LEFT, "by_peer_id": None},
                         {hidden.peer_id})
                out.close(hidden.peer_id, CLOSE_ENDED, "meeting ended")
                self.depart(hidden, now, "ended", out)
            out.records = [r for r in out.records if r.kind != Record.SESSION_IDLE]
            out.record(Record.SESSION_ENDED, now, session_id=self.session_id,
                       reason=ALL_PARTICIPANTS_LEFT)
            self.session_id = None
            self.idle_since = None
            self.pinned_peer_id = None
        return out

    def end(self, now: datetime, reason: str, by: Peer | None = None, *,
            close_code: int = CLOSE_ENDED, close_reason: str = "meeting ended") -> Outcome:
        """End the session at once: every peer, waiting ones too, is told and let go.

        Connections close with `close_code`: 4005 when a host ends the meeting; the
        server going away passes 1012 (service restart), so clients may come back.
        """
        out = Outcome(reply={"kicked_participants_count": len(self.joined)})
        for peer in list(self.peers.values()):
            out.send("room.ended", {"reason": reason,
                                    "by_peer_id": by.peer_id if by else None}, {peer.peer_id})
            out.close(peer.peer_id, close_code, close_reason)
            self.depart(peer, now, "ended", out)
        # depart() left the session idle; ending skips the keep-alive window.
        out.records = [r for r in out.records if r.kind != Record.SESSION_IDLE]
        if self.is_live:
            out.record(Record.SESSION_ENDED, now, session_id=self.session_id, reason=reason)
        self.session_id = None
        self.idle_since = None
        self.pinned_peer_id = None
        return out

    # --- presence -------------------------------------------------------------------------

    def state(self, peer_id: str) -> Outcome:
        peer = self.peer(peer_id)
        reply: dict[str, Any] = {"status": peer.status.value,
                                 "self": peer.self_view(self.pinned_peer_id)}
        if peer.joined:
            reply["room"] = self.state_for(peer)
        return Outcome(reply=reply)

    def rename(self, peer_id: str, name: str) -> Outcome:
        peer = self.actor(peer_id)
        if not peer.permissions.can_edit_display_name:
            raise forbidden("change your display name", "can_edit_display_name")
        name = name.strip()
        if not name or len(name) > 255:
            raise invalid("A display name must be 1 to 255 characters.")
        peer.name = name
        out = Outcome(reply={"name": name})
        self.announce_update(peer, out)
        return out

    def set_media(self, peer_id: str, changes: dict[str, bool]) -> Outcome:
        """The peer turns its own mic, camera or screenshare on or off."""
        peer = self.actor(peer_id)
        for kind, on in changes.items():
            if on and not peer.may_publish(kind):  # type: ignore[arg-type]
                raise may_not_send(peer, kind, "turn on")
        peer.media.update(changes)
        out = Outcome(reply={"media": dict(peer.media)})
        self.announce_update(peer, out)
        return out

    def pin(self, peer_id: str, target_id: str | None) -> Outcome:
        peer = self.actor(peer_id)
        if not peer.permissions.pin_participant:
            raise forbidden("pin participants", "pin_participant")
        if target_id is not None:
            target = self.targets([target_id])[0]
            if target.hidden:
                raise not_found(f"No peer {target_id} in the session.")
        self.pinned_peer_id = target_id
        out = Outcome(reply={"pinned_peer_id": target_id}, media_replan=True)
        out.send("room.pinned", {"peer_id": target_id}, self.everyone())
        return out
