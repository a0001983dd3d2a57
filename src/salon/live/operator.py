"""What the REST edge does to live rooms: the operator's controls of a live session
(AS1–AS6: read, kick, kick-all, mute, poll), what changes elsewhere in the API mean for
the peers in rooms (a deleted participant's peers leave, a deleted plugin closes), and
the live checks of HTTP requests made for a room (chat file uploads)."""

from typing import Any

from salon.core.clock import utcnow
from salon.core.errors import Conflict, Forbidden, InvalidRequest, NotFound, ServiceUnavailable
from salon.core.ratelimit import Limit, TokenBucket
from salon.core.room import Peer, host
from salon.core.room import chat as chat_rules
from salon.core.room import plugins as room_plugins
from salon.core.room.errors import RoomError
from salon.core.room.polls import checked as check_poll
from salon.core.room.polls import create as create_room_poll
from salon.deadline import within
from salon.live.host import RoomHost
from salon.live.rooms import Rooms

PLUGIN_DELETED = "plugin.deleted"
#: How long a REST read waits for a room's records to be persisted before answering 503.
SETTLE_TIMEOUT_SECS = 5.0


def _host(rooms: Rooms, meeting_id: str) -> RoomHost:
    room_host = rooms.get(meeting_id)
    if room_host is None or not room_host.room.is_live:
        raise NotFound(f"Meeting {meeting_id} has no active session.")
    return room_host


def _named(participant_ids: list[str], custom_participant_ids: list[str]) -> None:
    """A selection names someone: a bad body is a 400 whether or not a session is live."""
    if not participant_ids and not custom_participant_ids:
        raise InvalidRequest("Name participants in 'participant_ids' or 'custom_participant_ids'.")


def _peers_of(room_host: RoomHost, participant_ids: list[str],
              custom_participant_ids: list[str]) -> list[Peer]:
    ids, customs = set(participant_ids), set(custom_participant_ids)
    return [peer for peer in room_host.room.joined
            if peer.participant_id in ids or peer.custom_participant_id in customs]


async def live_session_id(rooms: Rooms, app_id: str, meeting_id: str,
                          timeout: float = SETTLE_TIMEOUT_SECS) -> str | None:
    """The id of the meeting's live session (None if it has none), once the records its
    room made before this call are persisted.

    A meeting of another app is NotFound, checked before waiting. Records still unsaved
    after `timeout` seconds (the database is unavailable) are ServiceUnavailable.
    Hold no database session while awaiting this: on SQLite the recorder needs it.
    """
    room_host = rooms.get(meeting_id)
    if room_host is not None and room_host.app_id != app_id:
        raise NotFound(f"Meeting {meeting_id} not found.")
    if room_host is None or not room_host.room.is_live:
        return None
    session_id = room_host.room.session_id
    await settled(room_host, timeout)
    return session_id


async def settled(room_host: RoomHost, timeout: float = SETTLE_TIMEOUT_SECS) -> None:
    """Once the records the room made so far are persisted: a REST change to a live room
    (kick, kick-all) answers after this, so that every read that follows sees it.

    ServiceUnavailable after `timeout` seconds. Hold no database session while awaiting
    this: on SQLite the recorder needs it.
    """
    try:
        await within(room_host.recorder.settled(), timeout)
    except TimeoutError:
        raise ServiceUnavailable("The live session's latest changes are still being saved; "
                                 "try again in a few seconds.") from None


async def kick(rooms: Rooms, meeting_id: str, participant_ids: list[str],
               custom_participant_ids: list[str]) -> list[str]:
    """Remove every peer of the named participants; returns their participant ids once
    their leaving is on record."""
    _named(participant_ids, custom_participant_ids)
    room_host = _host(rooms, meeting_id)
    peers = _peers_of(room_host, participant_ids, custom_participant_ids)
    if peers:
        room_host.run(lambda: host.kick(room_host.room, None, [p.peer_id for p in peers],
                                        utcnow()))
        await settled(room_host)
    return list(dict.fromkeys(p.participant_id for p in peers))


def remove_participant(rooms: Rooms, meeting_id: str, participant_id: str) -> int:
    """A deleted participant's peers leave the meeting (reason `kicked`); how many went.

    Unlike `kick`, this needs no live session: a peer in the waiting room goes too.
    """
    room_host = rooms.get(meeting_id)
    if room_host is None or not any(p.participant_id == participant_id
                                    for p in room_host.room.peers.values()):
        return 0
    reply = room_host.run(lambda: host.remove_participant(room_host.room, participant_id,
                                                          utcnow()))
    return len(reply["kicked"])


async def kick_all(rooms: Rooms, meeting_id: str) -> int:
    """End the live session; returns how many were in it, once its end is on record."""
    room_host = _host(rooms, meeting_id)
    reply = room_host.run(lambda: host.kick_all(room_host.room, None, utcnow()))
    await settled(room_host)
    return reply["kicked_participants_count"]


def mute(rooms: Rooms, meeting_id: str, participant_ids: list[str],
         custom_participant_ids: list[str]) -> list[str]:
    _named(participant_ids, custom_participant_ids)
    room_host = _host(rooms, meeting_id)
    peers = _peers_of(room_host, participant_ids, custom_participant_ids)
    if peers:
        room_host.run(lambda: host.disable_media(room_host.room, None,
                                                 [p.peer_id for p in peers], ["audio"]))
    return list(dict.fromkeys(p.participant_id for p in peers))


def mute_all(rooms: Rooms, meeting_id: str, allow_unmute: bool) -> int:
    room_host = _host(rooms, meeting_id)
    return room_host.run(lambda: host.mute_all(room_host.room, None, allow_unmute))["count"]


def create_poll(rooms: Rooms, meeting_id: str, question: str, options: list[str], *,
                anonymous: bool, hide_votes: bool, created_by: str) -> dict[str, Any]:
    """AS6: the operator's poll, for everyone who may view polls; returned in full."""
    try:
        check_poll(question, options)  # a bad poll is a 400 whether or not a session is live
    except RoomError as error:
        raise InvalidRequest(error.message) from None
    room_host = _host(rooms, meeting_id)
    try:
        reply = room_host.run(lambda: create_room_poll(
            room_host.room, None, question, options, anonymous=anonymous,
            hide_votes=hide_votes, now=utcnow(), operator_name=created_by))
    except RoomError as error:
        raise (Conflict if error.code == "CONFLICT" else InvalidRequest)(error.message) from None
    return reply["poll"]


def close_plugin_everywhere(rooms: Rooms, app_id: str, plugin_id: str) -> None:
    """A plugin left the app's registry: every live room of the app, on every node,
    closes it (reason `deleted`, `by_peer_id` null)."""
    rooms.update(None, PLUGIN_DELETED, {"app_id": app_id, "plugin_id": plugin_id})


def close_deleted_plugin(room_host: RoomHost, data: dict[str, Any]) -> None:
    """The room update PLUGIN_DELETED (`Rooms.updates`)."""
    plugin_id = data["plugin_id"]
    if room_host.app_id == data["app_id"] and plugin_id in room_host.room.plugins.active:
        room_host.run(lambda: room_plugins.deactivate(room_host.room, None, plugin_id,
                                                      "deleted"))


def upload_bucket(rooms: Rooms, meeting_id: str, participant_id: str,
                  limit: Limit) -> TokenBucket:
    """A chat file upload by a participant: allowed only to one with a joined peer that
    may send files (as its permissions stand live). Returns the participant's rate bucket
    for uploads; Forbidden otherwise."""
    room_host = rooms.get(meeting_id)
    peers = ([p for p in room_host.room.joined if p.participant_id == participant_id]
             if room_host is not None else [])
    if room_host is None or not peers:
        raise Forbidden("Join the meeting first: files are uploaded for its live chat.")
    refusals = []
    for peer in peers:  # any of the participant's peers will do
        try:
            chat_rules.may_upload(peer)
            break
        except RoomError as refusal:
            refusals.append(refusal.message)
    else:
        raise Forbidden(refusals[0])
    return room_host.rate_bucket(participant_id, limit)
