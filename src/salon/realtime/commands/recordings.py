"""Realtime commands of recordings: start, stop, pause and resume, for peers whose
preset has `can_record` (docs/protocol.md "Recordings"; docs/recording.md).

Like RealtimeKit's `meeting.recording.*`: stop and pause act on every recording that is
recording (or every active one, for stop), resume on every paused one, unless the
request names one `recording_id`. The REST API and these requests share the rules
(`salon.core.recordings`) and the service (`salon.services.recordings`).
"""

from typing import Any

from salon.core.errors import Conflict
from salon.core.ratelimit import Limit
from salon.core.recordings import ACTIVE, Action, StartRecording
from salon.core.recordings import caller as make_caller
from salon.core.room import RoomError
from salon.core.room.recordings import may_record, recordings_updated
from salon.core.schema import Flag, Strict, text
from salon.live.recordings import view
from salon.realtime.commands.base import AsyncCommand, Context, RoomCommand, as_room_errors
from salon.services import recordings

#: Starting records and costs a recorder; steering is cheap but fans out to everyone.
START_LIMIT = Limit("recording.start", 5, 60)
STEER_LIMIT = Limit("recording.steer", 2, 1, burst=10)

_ACTS_ON: dict[str, frozenset[str]] = {
    "stop": ACTIVE, "pause": frozenset({"RECORDING"}), "resume": frozenset({"PAUSED"})}


class Start(Strict):
    #: Record beside a recording already running (RealtimeKit's allow_multiple_recordings).
    allow_multiple_recordings: Flag = False


class Steer(Strict):
    #: One recording; left out: every recording the action applies to.
    recording_id: text(36, min_length=1, name=True) | None = None


def _caller(ctx: Context) -> dict[str, Any]:
    peer = ctx.host.room.peer(ctx.peer_id)
    return make_caller("USER", peer.name, peer.participant_id)


def _wake(ctx: Context) -> None:
    """The scheduler (and the webhook dispatcher) pick the change up."""
    scheduler = ctx.state.recordings.scheduler
    scheduler.on_commit()
    scheduler.wake()


async def _start(ctx: Context, p: Start) -> RoomCommand:
    host = ctx.host
    may_record(host.room, ctx.peer_id)
    body = StartRecording(meeting_id=host.meeting_id,
                          allow_multiple_recordings=p.allow_multiple_recordings)
    with as_room_errors():
        async with ctx.state.database.session() as db:
            row = await recordings.start(db, host.app_id, body,
                                         session_id=host.room.session_id,
                                         caller=_caller(ctx), by_peer_id=ctx.peer_id)
    _wake(ctx)
    shown = view(row)
    return lambda: recordings_updated(host.room, [shown], ctx.peer_id, {"recording": shown})


def _steer(action: Action) -> Any:
    async def run(ctx: Context, p: Steer) -> RoomCommand:
        host = ctx.host
        may_record(host.room, ctx.peer_id)
        changed = []
        with as_room_errors():
            async with ctx.state.database.session() as db:
                if p.recording_id is not None:
                    targets = [await recordings.get(db, host.app_id, p.recording_id)]
                    if targets[0].meeting_id != host.meeting_id:
                        raise RoomError("NOT_FOUND",
                                        f"No recording {p.recording_id} in this meeting.")
                else:
                    targets = [row for row in await recordings.active_of(db, host.meeting_id)
                               if row.status in _ACTS_ON[action]]
                    if not targets:
                        raise Conflict(f"There is no recording to {action} in this meeting.")
                for row in targets:
                    changed.append(await recordings.act(
                        db, host.app_id, row.id, action, caller=_caller(ctx),
                        by_peer_id=ctx.peer_id))
        _wake(ctx)
        shown = [view(row) for row in changed]
        return lambda: recordings_updated(host.room, shown, ctx.peer_id, {"recordings": shown})
    return run


COMMANDS: dict[str, AsyncCommand] = {
    "recording.start": AsyncCommand(Start, _start, limit=START_LIMIT),
    "recording.stop": AsyncCommand(Steer, _steer("stop"), limit=STEER_LIMIT),
    "recording.pause": AsyncCommand(Steer, _steer("pause"), limit=STEER_LIMIT),
    "recording.resume": AsyncCommand(Steer, _steer("resume"), limit=STEER_LIMIT),
}
