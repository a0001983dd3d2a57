"""`transcript.publish`: the meeting's transcriber hands the room one caption
(salon.core.room.captions; docs/protocol.md "Captions")."""

from salon.core.clock import utcnow
from salon.core.ratelimit import Limit
from salon.core.room import captions
from salon.core.schema import Flag, Strict, text
from salon.realtime.commands.base import Command

#: One transcriber speaks for every captioned peer: an interim about once a second per
#: speaker, and a final per utterance.
PUBLISH = Limit("transcript.publish", 50, 1, burst=100)


class PublishCaption(Strict):
    peer_id: text(64, min_length=1, name=True)
    #: The utterance: its interim captions and its final one share it.
    id: text(64, min_length=1, name=True)
    transcript: text(4000, min_length=1)
    is_partial: Flag = False


COMMANDS = {
    "transcript.publish": Command(PublishCaption, lambda h, me, p: lambda: captions.publish(
        h.room, me, p.peer_id, p.id, p.transcript, p.is_partial, utcnow()), PUBLISH),
}
