"""The live view of an app's rooms and the waiting-room controls (salon extensions, used
by the dashboard's "live now" page).

The view is read from the rooms in memory (`salon.live.live_view`): no database query, so
a dashboard polling it every 2 s costs a live meeting next to nothing; in a cluster each
node answers for its rooms and the node asked gathers them (`salon.cluster.gather`). Kick, mute and
ending a meeting are the active-session routes (AS2–AS5); admitting and denying from the
waiting room are here, since RealtimeKit's REST API has no such route.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from salon.api.deps import CurrentApp
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import Success, errors
from salon.api.schemas.live_sessions import LiveSessions, WaitingDecision
from salon.cluster import gather
from salon.core.errors import InvalidRequest
from salon.core.schema import Flag, Strict, text
from salon.live import live_view
from salon.services import meetings

router = APIRouter(prefix="/{app_id}", tags=["sessions"])


class Decision(Strict):
    #: Peers in the waiting room (their `peer_id`s), or `all: true` for everyone waiting;
    #: not both.
    peer_ids: Annotated[list[text(64, name=True)], Field(max_length=1000)] = []
    all: Flag = False


@router.get("/live_sessions", summary="Every live session of the app, with its peers, "
                                      "waiting room and stage requests",
            response_model=Success[LiveSessions])
async def live_sessions(
    request: Request, app: CurrentApp,
    meeting_id: Annotated[text(64, name=True) | None, Query()] = None,
    peer_limit: Annotated[int, Query(ge=0, le=1000)] = 200,
) -> Envelope:
    view = live_view.snapshot(request.app.state.rooms, app.id, meeting_id=meeting_id,
                              peer_limit=peer_limit)
    cluster = getattr(request.app.state, "cluster", None)
    if cluster is not None:  # every node's rooms, oldest session first
        for other in await gather.from_other_nodes(cluster, request):
            view["sessions"] += other["sessions"]
        view["sessions"].sort(key=lambda s: (s["started_at"] is None, s["started_at"] or "",
                                             s["meeting_id"]))
    return ok(view)


async def _decide(meeting_id: str, body: Decision, request: Request, app: CurrentApp,
                  admit: bool) -> list[str]:
    """The same rules as the realtime `waitlist.admit`/`waitlist.reject`."""
    if body.all and "peer_ids" in body.model_fields_set:
        raise InvalidRequest("Give either 'peer_ids' or 'all': true.")
    # 404 for a meeting not of this app. The session is closed before the room is waited
    # on (`operator.settled`): on SQLite the room's recorder needs the database.
    async with request.app.state.database.session() as db:
        await meetings.get(db, app.id, meeting_id)
    peer_ids = None if body.all else body.peer_ids
    decide = live_view.admit if admit else live_view.deny
    return await decide(request.app.state.rooms, app.id, meeting_id, peer_ids)


@router.post("/meetings/{meeting_id}/waiting_room/admit",
             summary="Admit peers from the waiting room", response_model=Success[WaitingDecision],
             responses=errors(503))
async def admit(meeting_id: str, body: Decision, request: Request,
                app: CurrentApp) -> Envelope:
    admitted = await _decide(meeting_id, body, request, app, admit=True)
    return ok({"action": "admit", "peer_ids": admitted})


@router.post("/meetings/{meeting_id}/waiting_room/deny",
             summary="Turn peers away from the waiting room",
             response_model=Success[WaitingDecision], responses=errors(503))
async def deny(meeting_id: str, body: Decision, request: Request,
               app: CurrentApp) -> Envelope:
    denied = await _decide(meeting_id, body, request, app, admit=False)
    return ok({"action": "deny", "peer_ids": denied})
