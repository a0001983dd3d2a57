"""Live captions as a room's peers see them.

The speech recognition runs outside the server, in the meeting's transcriber: a hidden
participant with the recorder preset that hears everyone's audio (salon.transcription).
It hands each caption to the room with `transcript.publish`; the room checks who may
publish captions and of whom, fills in who spoke from its own records (the transcriber
cannot name anyone the room does not know), and tells every joined peer with one
`transcript` event in RealtimeKit's payload (`meeting.ai.on("transcript")`).
"""

from datetime import datetime

from salon.core.clock import isoformat
from salon.core.room.errors import RoomError, bots_only
from salon.core.room.outcome import Outcome
from salon.core.room.room import Room


def may_caption(room: Room, peer_id: str) -> None:
    """Only a hidden recorder-preset participant (salon's transcriber) publishes
    captions: a person cannot put words in someone else's mouth."""
    peer = room.actor(peer_id)
    if not peer.is_bot:
        raise bots_only("publish captions")


def publish(room: Room, by: str, speaker_id: str, utterance_id: str, text: str,
            is_partial: bool, now: datetime) -> Outcome:
    """One interim or final caption of `speaker_id`, to every joined peer but the bots."""
    may_caption(room, by)
    speaker = room.peers.get(speaker_id)
    if speaker is None or not speaker.joined:
        raise RoomError("NOT_FOUND", f"No joined peer {speaker_id} in this meeting.")
    if not speaker.permissions.transcription_enabled:
        raise RoomError("FORBIDDEN", f"Peer {speaker_id} is not captioned: its preset lacks "
                                     "'transcription_enabled'.")
    # Not to salon's own bots (recorders, transcribers: hidden, `is_recorder`).
    recipients = {p.peer_id for p in room.joined
                  if not p.is_bot}
    out = Outcome(reply={"delivered_to": len(recipients)})
    out.send("transcript", {
        "id": utterance_id,
        "peerId": speaker.peer_id,
        "userId": speaker.participant_id,
        "customParticipantId": speaker.custom_participant_id,
        "name": speaker.name,
        "transcript": text,
        "isPartialTranscript": is_partial,
        "timestamp": isoformat(now),
    }, recipients)
    return out
