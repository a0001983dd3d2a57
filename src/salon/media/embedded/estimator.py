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

A higher *encoding* of a simulcast track is probed differently: switching to one costs a
keyframe burst into the link and, if it does not fit, a keyframe of the lower one to
come back. So when the next rung is an encoding (`encoding_to`, set by the downlink),
the estimate never grows into it untried: it stays, and a padding probe starts
(`probing`), aimed at every layer of every track (`top_to`) or, after such a probe
failed, at the next encoding only, until one wins. The downlink sends copies of
datagrams it has just sent (`prober.Prober`) to fill the link up to that rate; the
subscriber's SRTP drops every copy as a replay, so they cost the link and nothing
else. The first clean report (loss below `LOW_LOSS`, a calm round trip) that echoes a
sender report sent `PROBE_FILL_SECS` into the probe or later (the downlink sends one
then: it waited in the link's queue, if one built up) takes the estimate to the
target, and the next probe may start at the next report. A report with loss or a
queue, or a REMB that says congested, ends the probe as failed: the estimate stays
(the loss was the probe's), and the next probe waits `PADDING_HOLD_SECS`. A probe
that no report judges within `PROBE_MAX_SECS` ends (`expire`), failed.

Pure arithmetic over the caller's clock: no I/O (tests/test_media_estimator.py).
"""

from dataclasses import dataclass

from salon.media.embedded.selector import PROBE_HEADROOM

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
#: A padding probe wins with a clean report that echoes a sender report sent at least
#: this long into it: by then the padding has filled the link's queue if the link
#: cannot take it (a 15 kB queue at 300 kbit/s fills in 0.4 s at 300 kbit/s too much),
#: so that sender report waited in it and its round trip shows it. The loss and the
#: round trip of earlier reports lag the probe by up to a report interval, and
#: judging by them took a 300 kbit/s link to 500 kbit/s (seen in bench/media.py).
PROBE_FILL_SECS = 0.4
#: ...and ends unjudged after this long (no report echoed one).
PROBE_MAX_SECS = 3.0
#: After a padding probe failed, the next waits this long (a failed one cost a moment of
#: the link's queue, not keyframes: it does not double as `hold` does).
PADDING_HOLD_SECS = 2.0


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
    #: The estimate at which it would get a higher encoding of a simulcast track
    #: (`selector.next_encoding_bps`), probed with padding; or None.
    encoding_to: float | None = None
    #: ...and at which it would get every layer of every track, or None.
    top_to: float | None = None
    #: The next padding probe aims at `top_to` (else at `encoding_to`): after a probe
    #: of the top failed, probes go one encoding at a time until one wins.
    aim_top: bool = True
    #: The rate a padding probe running now fills the link to (the downlink sends the
    #: padding while it is set), and when it started; None when no probe runs.
    probing: float | None = None
    probe_started: float = 0.0
    probing_top: bool = False
    #: Whether the padding was sent (set by the downlink before each report): a probe
    #: with nothing to copy proves nothing about the link, and cannot win.
    padded: bool = True
    #: Padding probes that took the estimate up, and that met loss or a queue.
    probes_won: int = 0
    probes_lost: int = 0

    def on_loss(self, fraction: float, sent_bps: float, now: float,
                rtt: float | None = None, echoed_at: float | None = None) -> None:
        """A receiver report: `fraction` (0..1) of packets lost since the previous one,
        while `sent_bps` were being sent, the round trip it measured (None when it
        echoed no sender report of ours), and when that sender report was sent."""
        self.loss += LOSS_WEIGHT * (fraction - self.loss)
        queue = 0.0
        if rtt is not None:
            self.min_rtt = rtt if self.min_rtt is None else min(self.min_rtt, rtt)
            self.rtt = rtt if self.rtt is None else self.rtt + RTT_WEIGHT * (rtt - self.rtt)
            queue = self.rtt - self.min_rtt
            self.queued = self.queued + 1 if queue > QUEUE_SECS else 0
        if self.probing is not None:
            # the echo's own queue, not the smoothed one: smoothing halves what one
            # report shows, and the probe's verdict rests on that one
            echoed_queue = rtt - self.min_rtt if rtt is not None and self.min_rtt is not None \
                else 0.0
            self._judge_probe(fraction, max(queue, echoed_queue), now, echoed_at)
            return
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
                grown = self.probe_to  # a temporal layer first: it costs no keyframe
                reaches = (self.encoding_to is not None
                           and grown >= self.encoding_to / PROBE_HEADROOM)
            else:
                reaches = self.encoding_to is not None
            if reaches:  # a higher encoding, never taken untried: padding first
                top = self.aim_top and self.top_to is not None
                aim = max(self.encoding_to or 0.0, self.top_to or 0.0 if top else 0.0)
                target = min(self.ceiling, max(aim, grown))
                if target > self.value * 1.01:  # (at the ceiling there is nothing to try)
                    self.probing, self.probing_top = target, top
                    self.probe_started = now
                    return
            if grown > self.value:
                self.value = min(self.ceiling, grown)
                if self.probed_at is None:
                    self.probed_at = now
            self.hold_until = now + MIN_HOLD_SECS

    def _judge_probe(self, fraction: float, queue: float, now: float,
                     echoed_at: float | None) -> None:
        """A report during a padding probe: a failure on loss or a queue (the probe's
        own doing: nothing else changes), a success on a clean report that echoes a
        sender report sent through the filled link (`PROBE_FILL_SECS`)."""
        self.congested = False
        if fraction >= LOW_LOSS or queue >= CALM_SECS:
            self._end_probe(now, won=False)
        elif echoed_at is not None and echoed_at >= self.probe_started + PROBE_FILL_SECS:
            self._end_probe(now, won=self.padded)

    def _end_probe(self, now: float, won: bool) -> None:
        target, self.probing = self.probing, None
        if won:
            self.aim_top = True
        elif self.probing_top:
            self.aim_top = False  # one encoding at a time, until one wins
        if won and target is not None:
            self.probes_won += 1
            self.value = max(self.value, target)
            self.hold = MIN_HOLD_SECS
            self.hold_until = now  # the next rung may be probed at the next report
            self.probed_at = now  # a switch up that then fails doubles the hold
        else:  # cheap to try again: no keyframe was spent on it
            self.probes_lost += 1
            self.hold_until = now + PADDING_HOLD_SECS
            # the queue it built was its own: it drains now, and must not read as the
            # media's (a cut to 85 % of the sent rate at the next report)
            self.queued = 0
            self.rtt = self.min_rtt

    def cancel_probe(self) -> None:
        """End a padding probe that has nothing left to find out (the subscriber wants
        no higher encoding any more), neither won nor lost."""
        self.probing = None

    def expire(self, now: float) -> None:
        """End a padding probe that no report judged in `PROBE_MAX_SECS`, as failed."""
        if self.probing is not None and now - self.probe_started >= PROBE_MAX_SECS:
            self._end_probe(now, won=False)

    def on_remb(self, bps: float, sent_bps: float, now: float) -> None:
        """The receiver's own (delay-based) estimate; only a congested one counts (during
        a padding probe, it ends the probe)."""
        if sent_bps > 0 and bps < REMB_CONGESTED * sent_bps:
            if self.probing is not None:
                self._end_probe(now, won=False)
            else:
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
