"""One subscriber's downlink on the embedded SFU: its bandwidth estimate (fed by the RTCP
feedback on each of its slots) and the layers each of its video slots gets: the
temporal layer, and of a simulcast track the encoding (docs/media-design.md §6.9,
§6.10). The estimate also tells each publisher how much its
subscribers can take (`Published.demand`): a publisher is capped by REMB at what its
best-served subscriber takes, never more than `SALON_MEDIA_MAX_VIDEO_BITRATE`.
"""

import time
from collections.abc import Callable

from salon.media.embedded.estimator import BandwidthEstimate
from salon.media.embedded.prober import Prober
from salon.media.embedded.selector import (
    VideoWant,
    cap_for,
    choose,
    simulcast_caps,
)

#: What one received audio track costs on the link until its rate is measured (Opus
#: ~32 kbit/s and packet headers); then its measured rate, at least AUDIO_MIN_BPS (a
#: silent DTX stream may start speaking: its share is kept small, not zero).
AUDIO_BPS = 48_000
AUDIO_MIN_BPS = 8_000
#: The sent rate is measured over at least this long.
RATE_WINDOW_SECS = 0.5
#: A padding probe adds at least this much (a target just above the sent rate), and at
#: most this much (each copy is a send from Python: 4 Mbit/s is ~400 a second).
MIN_PROBE_BPS = 30_000
MAX_PROBE_BPS = 4_000_000
#: While the estimate holds still, layers are chosen again at most this often. Each of
#: a subscriber's streams reports about once a second, video with a REMB beside it:
#: at fifty subscribers that was 150 choices a second, nearly all of them the same
#: (issue 18). A report that moves the estimate (its value, a probe, congestion) is
#: acted on at once.
STEADY_APPLY_SECS = 0.5


class Downlink:
    """The estimate and layer choice for the slots `slots()` returns."""

    def __init__(self, slots: Callable[[], list], start_bps: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._slots = slots
        self._clock = clock
        self.estimate = BandwidthEstimate(value=start_bps, ceiling=max(start_bps, 1.0))
        self.sent_bps = 0.0
        self._mark_time = clock()
        self._mark_octets = 0
        #: The subscriber's own limits: data saver, and the height (CSS px) it renders
        #: each track at (track id -> px; 0 when not shown).
        self.data_saver = False
        self.heights: dict[str, int] = {}
        self.prober = Prober(self._copier, self._probe_rate, self._filled, clock)
        #: The estimate the layers were last chosen for (`_state()`), and when.
        self._applied: tuple = ()
        self._applied_at = float("-inf")

    def _sent(self, now: float) -> float:
        octets = sum(slot.octets for slot in self._slots())
        if now - self._mark_time >= RATE_WINDOW_SECS:
            self.sent_bps = max(0, octets - self._mark_octets) * 8 / (now - self._mark_time)
            self._mark_time, self._mark_octets = now, octets
        return self.sent_bps

    def on_loss(self, fraction: float, rtt: float | None = None,
                echo_age: float | None = None) -> None:
        """A receiver report block: `echo_age` is how long ago the sender report whose
        round trip `rtt` is was sent."""
        now = self._clock()
        self.estimate.padded = self.prober.fed
        self.estimate.on_loss(fraction, self._sent(now), now, rtt,
                              None if echo_age is None else now - echo_age)
        self._heard(now)

    def on_remb(self, bps: int) -> None:
        now = self._clock()
        self.estimate.on_remb(bps, self._sent(now), now)
        self._heard(now)

    def _heard(self, now: float) -> None:
        """After feedback: choose layers again if it moved the estimate, or if they were
        last chosen `STEADY_APPLY_SECS` ago (the publishers' rates move too)."""
        if self._state() != self._applied or now - self._applied_at >= STEADY_APPLY_SECS:
            self.apply(now)

    def _state(self) -> tuple:
        estimate = self.estimate
        return estimate.value, estimate.probing, estimate.congested

    def apply(self, now: float | None = None) -> None:
        """Give each video slot the layers that fit now, and tell its publisher."""
        now = self._clock() if now is None else now
        audio = 0.0
        wants: list[VideoWant] = []
        slots = []
        for slot in self._slots():
            source = slot.source
            if source is None:
                continue
            if not source.is_video:
                measured = source.layer_rates(now)[0]
                audio += max(AUDIO_MIN_BPS, measured) if measured else AUDIO_BPS
                continue
            rendered = self.heights.get(source.info.track_id)
            if source.rids:
                spatial_cap, cap = simulcast_caps(
                    self.data_saver, rendered, [e.height for e in source.encodings])
                wants.append(VideoWant(cap=cap, encodings=source.spatial_rates(now),
                                       spatial_cap=spatial_cap))
            else:
                wants.append(VideoWant(source.layer_rates(now),
                                       cap_for(self.data_saver, rendered)))
            slots.append(slot)
        for slot in self._slots():
            slot.resend_ok = not self.estimate.congested
            slot.check_lane()
        layers, rungs = choose(self.estimate.value, audio, wants)
        self.estimate.probe_to = rungs.temporal
        can_pad = self._copier() is not None
        self.estimate.encoding_to = rungs.encoding if can_pad else None
        self.estimate.top_to = rungs.top if can_pad else None
        if self.estimate.encoding_to is None:
            self.estimate.cancel_probe()  # nothing higher to try any more
        for slot, want, (spatial, limit) in zip(slots, wants, layers, strict=True):
            if slot.layers is not None:
                slot.layers.target = limit
            if want.encodings and any(rates[-1] > 0 for rates in want.encodings):
                slot.source.retarget(slot, slot.source.encodings[spatial])
            slot.source.demand[id(slot)] = self.estimate.value - audio
        self._follow_probe()
        self._applied, self._applied_at = self._state(), now

    def _copier(self):
        """The video slot a padding probe copies: one that is sending."""
        for slot in self._slots():
            if slot.kind == "video" and slot.source is not None and slot.sent:
                return slot
        return None

    def _probe_rate(self, now: float) -> float | None:
        """What the padding adds now (the probe's target less what is sent), or None
        once the probe is over."""
        self.estimate.expire(now)
        if self.estimate.probing is None:
            return None
        return min(MAX_PROBE_BPS, max(MIN_PROBE_BPS, self.estimate.probing - self.sent_bps))

    def _filled(self) -> None:
        """The padding has run long enough to fill a queue: a sender report now on each
        stream that is sending, whose echo tells (`estimator.PROBE_FILL_SECS`). Every
        stream, not only the copied one: each of the subscriber's receivers reports on
        its own clock (aiortc every 0.5-1.5 s), and the first to echo one judges the
        probe, so a verdict waits for the soonest of them (issue 18: layer_switch_s)."""
        for slot in self._slots():
            if slot.source is not None and slot.sent:
                slot.report_now()

    def _follow_probe(self) -> None:
        if self.estimate.probing is not None:
            self.prober.start()
        else:
            self.prober.stop()

    def probe_figures(self) -> dict[str, int]:
        """Padding probes won and lost, and the copies sent (`media.stats`)."""
        return {"won": self.estimate.probes_won, "lost": self.estimate.probes_lost,
                "copies": self.prober.packets}

    def close(self) -> None:
        """The subscribe connection is gone: no probe (its slots go with it, so a late
        report finds nothing to copy and starts none)."""
        self.estimate.cancel_probe()
        self.prober.stop()
