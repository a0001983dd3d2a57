"""A webhook's delivery log (a salon extension): one row per event sent to it."""

from typing import Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import Timestamp, closed


@closed
class WebhookDelivery(TypedDict):
    #: Also the `rtk-uuid` header the receiver saw.
    id: str
    webhook_id: str
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    #: The HTTP status of the last attempt; `null` before one, or when it got no answer.
    last_status_code: int | None
    last_error: str | None
    #: When the next attempt is due (`pending` only; `null` once delivered or failed).
    next_attempt_at: Timestamp | None
    created_at: Timestamp
    delivered_at: Timestamp | None
