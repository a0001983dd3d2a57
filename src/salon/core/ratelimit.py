"""Rate limits: a named limit, and the token bucket that enforces it."""

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    """At most `rate` requests per `per` seconds, per participant, shared by every
    command naming the same `bucket` (chat text and edits, say), with bursts of up to
    `burst` requests (`rate` when not given)."""

    bucket: str
    rate: float
    per: float
    burst: float | None = None

    @property
    def capacity(self) -> float:
        return self.rate if self.burst is None else self.burst


@dataclass
class TokenBucket:
    """`rate` actions per `per` seconds, with bursts up to `burst` (`rate` if None)."""

    rate: float
    per: float
    burst: float | None = None
    tokens: float = field(init=False)
    stamp: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.burst is None:
            self.burst = self.rate
        self.tokens = self.burst

    @classmethod
    def of(cls, limit: Limit) -> "TokenBucket":
        return cls(limit.rate, limit.per, limit.capacity)

    def _refill(self, now: float) -> None:
        if self.stamp is not None:
            assert self.burst is not None
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate / self.per)
        self.stamp = now

    def allow(self, now: float) -> bool:
        """Take one token if there is one; `now` is a monotonic clock reading in seconds."""
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def give_back(self) -> None:
        """Return the token `allow` took (the request was refused as INVALID after all)."""
        assert self.burst is not None
        self.tokens = min(self.burst, self.tokens + 1)

    def retry_after_ms(self, now: float) -> int:
        """Whole milliseconds until a token is there (0: one is there now), rounded up
        so that a client waiting exactly this long is never refused again."""
        self._refill(now)
        missing = 1 - self.tokens
        if missing <= 0:
            return 0
        # rounded first: float noise must not turn 300 ms into 301
        return math.ceil(round(missing * self.per / self.rate * 1000, 6))
