"""Padding probes (docs/media-design.md §6.9): before a subscriber is switched to a higher
encoding of a simulcast track, its link is filled up to the rate that encoding needs,
to see whether it takes it, without the keyframes a switch costs.

The padding is copies of datagrams one of the subscriber's video slots has just sent,
sent again as they are: SRTP-protected already (nothing to encrypt), and dropped by the
subscriber's SRTP as replays — before its RTP statistics, its jitter buffer or its own
bandwidth estimate see them. A copy of one that the link had lost is not a replay and
counts as the resend it is. RFC 3550 padding packets would need sequence numbers of our
stream (moving every later packet's) or an RTX stream the subscriber may not have.

The rate is asked of `rate_now()` at every tick (20 ms), so the downlink can follow its
measured sent rate, and end the probe by answering None. `filled()` is called once
the padding has run `PROBE_FILL_SECS`: a queue it could not get through has filled
by then (the downlink sends a sender report through it, whose echo decides).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from salon.media.embedded.estimator import PROBE_FILL_SECS

log = logging.getLogger("salon.media")

TICK_SECS = 0.02
#: Copies are of the slot's latest datagrams, this many of them in turn, but not the
#: very newest: a copy of a datagram the link lost is a resend the subscriber counts as
#: received, and the newest may be lost without its NACK having come yet (those a NACK
#: named are not copied: `Downstream.send_copy`). Loss can still be under-counted during
#: a probe; the round trip of the sender report sent through it is not.
RECENT = 32
SKIP_NEWEST = 8
#: Credit kept over a late tick, at most: a stalled loop sends no burst when it wakes.
MAX_BURST_SECS = 0.05


class Copier(Protocol):
    """A slot that can send one of its recent datagrams again (`Downstream`)."""

    def send_copy(self, back: int) -> int: ...

    def report_now(self) -> None: ...


class Prober:
    """One subscriber's padding, at `rate_now()` bits/s while it answers a rate."""

    def __init__(self, copier: Callable[[], Copier | None],
                 rate_now: Callable[[float], float | None],
                 filled: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._copier = copier
        self._rate_now = rate_now
        self._filled = filled
        self._started = 0.0
        self._told = False
        self._clock = clock
        self._handle: asyncio.TimerHandle | None = None
        self._active = False
        self._last = 0.0
        self._credit = 0.0
        self._turn = 0
        #: Copies sent, and octets the probe wanted but had nothing to copy (this probe).
        self.packets = 0
        self.octets = 0
        self.starved = 0

    @property
    def running(self) -> bool:
        return self._active

    def start(self) -> None:
        """Start padding (a probe already running goes on as it is)."""
        if self._active:
            return
        self._active = True
        self._last = self._started = self._clock()
        self._told = False
        self._credit = 0.0
        self.octets = self.starved = 0
        self._handle = asyncio.get_running_loop().call_later(TICK_SECS, self._tick)

    def stop(self) -> None:
        self._active = False
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    @property
    def fed(self) -> bool:
        """The probe sent at least half of what it was asked to (a probe with nothing
        to copy proves nothing about the link)."""
        return self.octets > 0 and self.starved <= self.octets

    def _tick(self) -> None:
        self._handle = None
        try:
            more = self._pad()
        except Exception:  # never a silent end with `running` still true
            log.exception("padding probe failed")
            more = False
        if more:
            self._handle = asyncio.get_running_loop().call_later(TICK_SECS, self._tick)
        else:
            self._active = False

    def _pad(self) -> bool:
        """One tick's copies; whether the probe goes on."""
        now = self._clock()
        rate = self._rate_now(now)
        if rate is None:
            return False
        self._credit = min(self._credit + rate * (now - self._last) / 8,
                           rate * MAX_BURST_SECS / 8)
        self._last = now
        copier = self._copier()
        misses = 0
        while self._credit > 0 and misses < RECENT:
            back = SKIP_NEWEST + self._turn % RECENT
            sent = copier.send_copy(back) if copier is not None else 0
            self._turn += 1
            if sent:
                self._credit -= sent
                self.octets += sent
                self.packets += 1
            else:
                misses += 1
                if copier is None:
                    break
        if self._credit > 0:
            self.starved += int(self._credit)
            self._credit = 0.0
        if not self._told and now - self._started >= PROBE_FILL_SECS:
            self._told = True
            self._filled()
        return True
