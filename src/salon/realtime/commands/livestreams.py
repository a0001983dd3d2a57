"""Realtime commands of livestreams: start and stop the meeting's livestream, for peers
whose preset has `can_livestream` (docs/protocol.md "Livestreams";
docs/livestreaming.md). Like RealtimeKit's `meeting.livestream.start()` / `stop()`. The
REST API and these requests share the service (`salon.services.livestreams`)."""

from salon.core.livestreams import StartLivestream, VideoConfig
from salon.core.ratelimit import Limit
from salon.core.room.livestreams import livestream_updated, may_livestream
from salon.core.schema import Strict, text
from salon.live.livestreams import view
from salon.realtime.commands.base import (
    AsyncCommand,
    Context,
    NoParams,
    RoomCommand,
    as_room_errors,
)
from salon.services import livestreams

#: Starting costs an encoder; both fan out to everyone.
LIMIT = Limit("livestream.steer", 5, 60)


class StartLivestreamParams(Strict):
    name: text(200, name=True) | None = None
    video_config: VideoConfig | None = None


async def _start(ctx: Context, p: StartLivestreamParams) -> RoomCommand:
    host = ctx.host
    may_livestream(host.room, ctx.peer_id)
    live = ctx.state.livestreams
    with as_room_errors():
        async with ctx.state.database.session() as db:
            livestream, session = await livestreams.start_meeting(
                db, host.app_id, host.meeting_id,
                StartLivestream(name=p.name, video_config=p.video_config),
                session_id=host.room.session_id, by_peer_id=ctx.peer_id)
    live.runner.on_commit()
    live.runner.wake()
    shown = view(livestream, session, live.urls)
    return lambda: livestream_updated(host.room, shown, ctx.peer_id, {"livestream": shown})


async def _stop(ctx: Context, p: NoParams) -> RoomCommand:
    host = ctx.host
    may_livestream(host.room, ctx.peer_id)
    live = ctx.state.livestreams
    with as_room_errors():
        async with ctx.state.database.session() as db:
            session = await livestreams.stop_meeting(db, host.app_id, host.meeting_id,
                                                     live.urls)
            session.by_peer_id = ctx.peer_id
            await db.commit()
            livestream = await livestreams.get(db, host.app_id, session.livestream_id)
    live.runner.on_commit()
    live.runner.wake()
    shown = view(livestream, session, live.urls)
    return lambda: livestream_updated(host.room, shown, ctx.peer_id, {"livestream": shown})


COMMANDS: dict[str, AsyncCommand] = {
    "livestream.start": AsyncCommand(StartLivestreamParams, _start, limit=LIMIT),
    "livestream.stop": AsyncCommand(NoParams, _stop, limit=LIMIT),
}
