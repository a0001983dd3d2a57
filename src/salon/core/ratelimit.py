"""Rate limits: a named limit, and the token bucket that enforces it."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    """At most `rate` requests per `per` seconds, per participant, shared by every
    command naming the same `bucket` (chat text and edits, say)."""

    bucket: str
    rate: float
    per: float


@dataclass
class TokenBucket:
    """`rate` actions per `per` seconds, with bursts up to `rate`."""

    rate: float
    per: float
    tokens: float = field(init=False)
    stamp: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tokens = self.rate

    def allow(self, now: float) -> bool:
        """Take one token if there is one; `now` is a monotonic clock reading in seconds."""
        if self.stamp is not None:
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate / self.per)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
