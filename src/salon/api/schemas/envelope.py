"""RealtimeKit's envelope around every answer: `success`, then `data` (and `paging` on
lists), or `error` with the HTTP status and a message."""

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Paging(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total_count: int
    #: 0-based offsets of the first and last row of this page in the whole list.
    start_offset: int
    end_offset: int


class Success(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid")

    success: Literal[True]
    data: T


class PagedSuccess(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid")

    success: Literal[True]
    data: T
    paging: Paging


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The HTTP status again.
    code: int
    message: str


class Failure(BaseModel):
    """Every error: validation (400), token (401), not found (404), conflict (409), body
    too large (413), the database busy (503)."""

    model_config = ConfigDict(extra="forbid")

    success: Literal[False]
    error: ErrorDetail


#: What each error status means, for the OpenAPI document.
ERROR_STATUSES = {
    400: "The request is invalid: the message names each problem.",
    401: "No API token, or one that is invalid or revoked.",
    403: "The token may not do this.",
    404: "No such app, or no such object in it.",
    409: "The request conflicts with the current state (a name taken, an object in use).",
    413: "The request body is larger than the server's limit.",
    415: "The body's Content-Type is not one accepted here.",
    416: "The Range asked for lies past the end of the file (Content-Range gives its size).",
    429: "Too many requests of this kind; wait and retry.",
    503: "The live session's latest changes are still being saved; try again shortly.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's errors beyond those every REST route has (see
    `salon.api.openapi`)."""
    return {status: {"model": Failure, "description": ERROR_STATUSES[status]}
            for status in statuses}
