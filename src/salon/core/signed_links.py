"""Links that work without credentials until they expire: an HMAC over what the link
names and its expiry (unix seconds), with a key derived from the deployment's secret for
one purpose (chat exports, recording files), so a link for one cannot open the other.

The signature is URL-safe base64 without padding, so it goes in a query string as is.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from salon.core.clock import isoformat, utcnow
from salon.core.errors import Forbidden


def derive_key(secret: str, purpose: bytes) -> bytes:
    """The signing key for one kind of link (`purpose` names it, e.g. b"salon chat
    export links"); changing the deployment's secret voids every link of every kind."""
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def sign(key: bytes, subject: str, expires: int) -> str:
    """The signature of a link to `subject` (what it opens) valid until `expires`."""
    mac = hmac.new(key, f"{subject}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def matches(key: bytes, subject: str, expires: int, signature: str) -> bool:
    """Whether `signature` is this link's, compared in constant time. Any non-ASCII
    signature is simply wrong: `compare_digest` would raise TypeError on one (a 500)."""
    return signature.isascii() and hmac.compare_digest(sign(key, subject, expires), signature)


def expiry(now: datetime, ttl: timedelta) -> tuple[datetime, int]:
    """When a link made `now` dies, to the second, as a datetime and as unix seconds."""
    moment = now.replace(microsecond=0) + ttl
    return moment, int(moment.timestamp())


def verify(key: bytes, subject: str, expires: int, signature: str, now: datetime | None,
           *, what: str, renew: str) -> None:
    """Forbidden unless the link is one signed with `key` for `subject` and not expired:
    `This <what> is not valid.`, or `… expired at <time>; <renew> for a new one.`"""
    if not matches(key, subject, expires, signature):
        raise Forbidden(f"This {what} is not valid.")
    if (now or utcnow()).timestamp() > expires:
        moment = isoformat(datetime.fromtimestamp(expires, UTC))
        raise Forbidden(f"This {what} expired at {moment}; {renew} for a new one.")
