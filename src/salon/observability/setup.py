"""Wiring observability into the app: the middleware and registry when the app is made,
the live collector's sources and the loop-lag probe when it starts."""

from fastapi import FastAPI

from salon.core.room import Record
from salon.observability.collectors import Backlog, LiveCollector
from salon.observability.health import migration_heads
from salon.observability.looplag import LoopLagProbe
from salon.observability.metrics import Metrics, Tally
from salon.observability.requests import RequestObserver


def install(app: FastAPI, access_log: bool) -> Metrics:
    """The app's registry (`app.state.metrics`) and the request middleware, added last
    so that it is the outermost of salon's own."""
    metrics = Metrics()
    app.state.metrics = metrics
    metrics.register(LiveCollector(app.state, metrics.tally))
    app.add_middleware(RequestObserver, metrics=metrics, access_log=access_log)
    return metrics


async def start(app: FastAPI) -> None:
    """Once the app's database, rooms and workers exist (in its lifespan)."""
    state = app.state
    migration_heads()  # read the migration scripts now, not on the first probe
    state.backlog = Backlog(state.database)
    tally = state.metrics.tally
    state.rooms.session_listeners.append(lambda _host, record: _count(tally, record))
    state.loop_lag = LoopLagProbe(state.metrics.loop_lag.observe)
    state.loop_lag.start()


async def stop(app: FastAPI) -> None:
    probe = getattr(app.state, "loop_lag", None)
    if probe is not None:
        await probe.stop()


def _count(tally: Tally, record: Record) -> None:
    if record.kind == Record.SESSION_STARTED:
        tally.sessions_started += 1
    elif record.kind == Record.SESSION_ENDED:
        tally.sessions_ended += 1
    elif record.kind == Record.PEER_JOINED:
        tally.peers_admitted += 1

