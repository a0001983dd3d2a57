"""Operations endpoints beside `/healthz`: `/readyz` and `/metrics`
(salon.observability, docs/observability.md). Outside the REST prefix: no API token."""

import secrets

from fastapi import APIRouter, Request
from starlette.responses import Response

from salon.api.envelope import Envelope, error, ok
from salon.api.schemas.envelope import Failure, Success
from salon.api.schemas.ops import Ready
from salon.core.errors import NotFound, Unauthorized
from salon.observability.health import readiness

router = APIRouter(tags=["ops"])

#: Prometheus's text exposition format, as prometheus_client writes it.
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/readyz", summary="Readiness probe: database, migrations, Redis",
            response_model=Success[Ready], responses={503: {
                "model": Failure,
                "description": "Not ready: the message names each failing check."}})
async def readyz(request: Request) -> Envelope:
    state = request.app.state
    result = await readiness(state.database, state.settings.redis_url.get_secret_value())
    if not result.ready:
        return error(503, "Not ready: " + "; ".join(result.failures) + ".",
                     {"Cache-Control": "no-store"})
    answer = ok({"status": "ready", "checks": result.checks})
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.get("/metrics", summary="Prometheus metrics (SALON_METRICS, SALON_METRICS_TOKEN)",
            response_class=Response, responses={
                200: {"description": "Every metric, in Prometheus text format 0.0.4.",
                      "content": {"text/plain": {"schema": {"type": "string"}}}},
                401: {"model": Failure, "description": "SALON_METRICS_TOKEN is set and the "
                      "request does not carry it as `Authorization: Bearer …`."},
                404: {"model": Failure, "description": "Metrics are off (SALON_METRICS=off)."}})
async def metrics(request: Request) -> Response:
    state = request.app.state
    settings = state.settings
    if settings.metrics == "off":
        raise NotFound("No such endpoint.")
    expected = settings.metrics_token.get_secret_value()
    if expected:
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
                given.strip().encode(), expected.encode()):
            raise Unauthorized("Metrics need 'Authorization: Bearer <SALON_METRICS_TOKEN>'.")
    await state.backlog.refresh()
    return Response(state.metrics.render(), media_type=METRICS_TYPE,
                    headers={"Cache-Control": "no-store"})
