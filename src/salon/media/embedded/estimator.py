"""How many bits per second one subscriber's link takes, from that subscriber's own
RTCP feedback (docs/media-design.md §6.9).

aiortc negotiates neither transport-wide congestion control nor send-side delay
estimation, so the SFU reads what every receiver sends anyway: receiver reports (the
fraction of packets lost since the last one) and REMB (the receiver's delay-based
estimate, sent by Chromium and by aiortc receivers that see abs-send-time). The rule is
loss-based, like the loss half of Google congestion control:

- loss above `HIGH_LOSS` in a report and smoothed over reports: the estimate drops to what got through (sent rate minus half
  the loss), and stays there for `hold` seconds;
- a smoothed round trip `QUEUE_SECS` above the lowest seen in `QUEUE_REPORTS` reports
  in a row (the link's queue fills before it drops anything) cuts it to 85 % of the
  sent rate;
- a REMB below `REMB_CONGESTED` of the sent rate (the receiver sees queues growing)
  lowers the estimate to it;
- loss below `LOW_LOSS` and a calm round trip once the hold is over: the estimate
  grows by `GROWTH` of what is sent, or straight to `probe_to` (what the selector
  needs for the next temporal layer) when that is more (a probe: the selector takes
  the next layer); the next probe comes at least `MIN_HOLD_SECS` later. A probe that
  meets loss within `PROBE_SECS` doubles the hold (up to `MAX_HOLD_SECS`), so a link
  that cannot take the next layer is not hit every second; a probe that holds resets
  it. The bounds trade the two figures of bench/media.py's network phase: a link
  limited to 300 kbit/s keeps ≥ 15 fps, and one whose limit is lifted has every layer
  back within 5 s (hold, then a probe per layer).

Pure arithmetic over the caller's clock: no I/O (tests/test_media_estimator.py).
"""

from dataclasses import dataclass

#: Round trip above the lowest seen by this much, in QUEUE_REPORTS reports in a row:
#: the link's queue is filling (one slow report is more often a busy receiver).
QUEUE_SECS = 0.2
QUEUE_REPORTS = 2
#: ...and by less than this: the queue is empty enough to probe (above 80 ms of jitter).
CALM_SECS = 0.08
#: Round trips are smoothed (each report counts this much) before they are compared.
RTT_WEIGHT = 0.5
HIGH_LOSS = 0.10
#: Reports are smoothed (each one counts this much): one report of a link losing 5 %
#: at random often says 9 %, which must not read as congestion.
LOSS_WEIGHT = 0.3
LOW_LOSS = 0.02
REMB_CONGESTED = 0.8
GROWTH = 1.3
MIN_HOLD_SECS = 1.0
MAX_HOLD_SECS = 3.0
PROBE_SECS = 2.5


@dataclass
class BandwidthEstimate:
    """The estimate of one subscriber's downlink, in bits/s."""

    value: float
    floor: float = 50_000
    ceiling: float = 10_000_000
    hold: float = MIN_HOLD_SECS
    hold_until: float = 0.0
    probed_at: float | None = None
    decreases: int = 0
    loss: float = 0.0
    min_rtt: float | None = None
    rtt: float | None = None
    queued: int = 0
    #: The latest reports say the link is full (sustained loss or a queue): resending
    #: lost packets would only lose more (the slots stop answering NACKs meanwhile).
    congested: bool = False
    #: The estimate at which the subscriber would get one more temporal layer (set by
    #: its downlink each time layers are chosen, `selector.next_rung_bps`); or None.
    probe_to: float | None = None

    def on_loss(self, fraction: float, sent_bps: float, now: float,
                rtt: float | None = None) -> None:
        """A receiver report: `fraction` (0..1) of packets lost since the previous one,
        while `sent_bps` were being sent, and the round trip it measured (None when it
        echoed no sender report of ours)."""
        self.loss += LOSS_WEIGHT * (fraction - self.loss)
        queue = 0.0
        if rtt is not None:
            self.min_rtt = rtt if self.min_rtt is None else min(self.min_rtt, rtt)
            self.rtt = rtt if self.rtt is None else self.rtt + RTT_WEIGHT * (rtt - self.rtt)
            queue = self.rtt - self.min_rtt
            self.queued = self.queued + 1 if queue > QUEUE_SECS else 0
        # Sustained loss, not one unlucky report: a link losing packets at random
        # recovers by resending them, and stopping then froze video (seen in CI).
        lossy = fraction > HIGH_LOSS and self.loss > HIGH_LOSS
        self.congested = lossy or self.queued >= QUEUE_REPORTS
        if lossy:
            self._decrease(sent_bps * (1 - 0.5 * self.loss), now)
        elif self.queued >= QUEUE_REPORTS:
            self._decrease(sent_bps * 0.85, now)
        elif fraction < LOW_LOSS and queue < CALM_SECS and now >= self.hold_until:
            if self.probed_at is not None and now - self.probed_at >= PROBE_SECS:
                self.hold = MIN_HOLD_SECS  # the last probe held
                self.probed_at = None
            grown = max(self.value, sent_bps) * GROWTH
            if self.probe_to is not None and self.probe_to > grown:
                grown = self.probe_to
            if grown > self.value:
                self.value = min(self.ceiling, grown)
                if self.probed_at is None:
                    self.probed_at = now
            self.hold_until = now + MIN_HOLD_SECS

    def on_remb(self, bps: float, sent_bps: float, now: float) -> None:
        """The receiver's own (delay-based) estimate; only a congested one counts."""
        if sent_bps > 0 and bps < REMB_CONGESTED * sent_bps:
            self._decrease(bps, now)

    def _decrease(self, to: float, now: float) -> None:
        if to >= self.value:
            return
        if self.probed_at is not None and now - self.probed_at < PROBE_SECS:
            self.hold = min(MAX_HOLD_SECS, self.hold * 2)  # that probe failed
        self.probed_at = None
        self.value = max(self.floor, to)
        self.hold_until = now + self.hold
        self.decreases += 1
