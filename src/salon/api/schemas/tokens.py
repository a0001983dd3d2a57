"""API tokens as the dashboard's token routes answer them (a salon extension): never the
secret, except once, in the answer that created it."""

from typing import Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import Timestamp, closed


@closed
class ApiToken(TypedDict):
    id: str
    name: str
    #: `null`: account-wide (reaches every app of the account).
    app_id: str | None
    status: Literal["ACTIVE", "REVOKED"]
    created_at: Timestamp
    revoked_at: Timestamp | None


@closed
class CreatedApiToken(ApiToken):
    #: The secret, shown in this answer only: salon keeps its SHA-256 alone.
    token: str


@closed
class VerifiedToken(TypedDict):
    """Cloudflare's token-verify answer (`id`, `status`) plus what the token reaches: its
    account, and its app when it is scoped to one (salon's addition)."""

    id: str
    status: Literal["active"]
    account_id: str
    app_id: str | None
