"""Add-participant, the API's hottest route, served without FastAPI's per-request work.

For every request FastAPI solves the route's dependencies, reads and validates the body
through its own layers and wraps each step for telemetry: a fifth of this route's CPU in
bench/api.py. `install` puts a plain Starlette route in front of the FastAPI one, which
stays for the OpenAPI document and answers nothing. The route takes the same steps with
the same functions and raises the same exceptions, so `envelope.install`'s handlers
answer exactly as they do for every other route.

Bodies that the JSON parser refuses for their depth, size or encoding are "not valid
JSON" here, as `envelope` answers FastAPI's "There was an error parsing the body" on
every other route. (Both check the token before the body: `body_limit.BodyLimit` does,
in front of every route.)
"""

from typing import TypeVar

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from salon.api.deps import current_app
from salon.api.routes import PREFIX
from salon.api.routes.participants import respond_added
from salon.core.participants import NewParticipant

M = TypeVar("M", bound=BaseModel)


def install(app: FastAPI) -> None:
    app.router.routes.insert(0, Route(f"{PREFIX}/{{app_id}}/meetings/{{meeting_id}}/participants",
                                      add_participant, methods=["POST"]))


async def add_participant(request: Request) -> Response:
    app = await current_app(request)
    body = await json_body(request, NewParticipant)
    return await respond_added(request.app.state, app, request.path_params["meeting_id"], body)


async def json_body(request: Request, model: type[M]) -> M:
    """The body as `model`, or the RequestValidationError FastAPI would raise for it."""
    raw = await request.body()
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                       "msg": "Field required", "input": None}])
    if not _is_json(request.headers.get("content-type", "")):
        # FastAPI validates a non-JSON body as bytes, which no model accepts.
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                       "msg": "Input should be an object", "input": None}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise RequestValidationError(
            [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]
        ) from None


def _is_json(content_type: str) -> bool:
    """`application/json` or `application/<anything>+json`, as FastAPI decides it
    (`JsonBodies` has already relabelled bodies sent without a JSON type)."""
    kind, _, subtype = content_type.split(";", 1)[0].strip().lower().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))
