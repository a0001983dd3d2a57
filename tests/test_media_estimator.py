"""The per-subscriber bandwidth estimate and the layer selection (pure; no network)."""

from salon.media.embedded.estimator import MAX_HOLD_SECS, BandwidthEstimate
from salon.media.embedded.layers import ALL
from salon.media.embedded.selector import (
    VideoWant,
    allocate,
    allocate_layers,
    cap_for,
    choose,
    next_encoding_bps,
    next_rung_bps,
)

LAYERED = (150_000.0, 215_000.0, 300_000.0)  # TL0, TL0+1, TL0+1+2


def test_loss_cuts_the_estimate_to_what_got_through_and_holds_it() -> None:
    e = BandwidthEstimate(value=2_500_000)
    e.on_loss(0.6, 350_000, now=10.0)  # smoothed over reports: 0.18
    assert e.value == 350_000 * (1 - 0.5 * 0.18)
    held = e.value
    e.on_loss(0.0, 250_000, now=10.5)  # within the hold: no growth yet
    assert e.value == held
    e.on_loss(0.0, 250_000, now=11.1)
    assert e.value > held  # a probe
    e.on_loss(0.04, 250_000, now=12.0)  # some loss, not much: nothing changes
    assert e.value > held


def test_a_failed_probe_backs_off_and_a_good_link_grows_back_fast() -> None:
    e = BandwidthEstimate(value=300_000)
    t = 0.0
    e.on_loss(0.4, 300_000, t)
    for _ in range(4):  # probe, fail, probe, fail...
        t += e.hold + 0.01
        e.on_loss(0.0, e.value, t)
        t += 1.0
        e.on_loss(0.4, 300_000, t)
    assert e.hold == MAX_HOLD_SECS
    # the limit is lifted: within 5 s the estimate covers the top layer again
    start = t
    while e.value < 1.2 * LAYERED[-1] + 48_000:
        t += 1.0
        e.on_loss(0.0, e.value, t)
    assert t - start <= 5.0


def test_a_probe_goes_straight_to_the_next_temporal_layer() -> None:
    """The estimate grows to what the next temporal layer needs in one report, not 30 %
    at a time (a link lifted from 300 kbit/s took a report interval more per step)."""
    want = [VideoWant(LAYERED)]
    assert allocate(160_000, 48_000, want) == [0]
    needed = next_rung_bps(160_000, 48_000, want)
    assert needed is not None and needed > 160_000
    assert allocate(needed, 48_000, want) == [1]  # the rung fits, with headroom
    assert allocate(needed / 1.2, 48_000, want) == [0]
    assert next_rung_bps(2_000_000, 48_000, want) is None  # every layer taken
    # a simulcast track with every layer of its low encoding: the next rung is an
    # encoding, whose try costs keyframes; not probed straight to
    sim = [VideoWant(encodings=((100_000.0, 150_000.0), (0.0,), (400_000.0, 600_000.0)))]
    assert allocate_layers(300_000, 48_000, sim) == [(0, ALL)]
    assert next_rung_bps(300_000, 48_000, sim) is None
    assert allocate_layers(160_000, 48_000, sim) == [(0, 0)]
    low = next_rung_bps(160_000, 48_000, sim)
    assert low is not None and allocate_layers(low, 48_000, sim) == [(0, ALL)]

    big = [VideoWant((100_000.0, 300_000.0))]
    up = next_rung_bps(200_000, 48_000, big)
    assert up is not None and up > 200_000 * 1.3
    e = BandwidthEstimate(value=200_000)
    e.probe_to = up
    e.on_loss(0.0, 150_000, now=5.0)
    assert e.value == up  # one report, not three
    e.probe_to = None  # every layer taken: the usual growth
    e.on_loss(0.0, 150_000, now=6.5)
    assert e.value == up * 1.3


def test_a_congested_remb_lowers_the_estimate_an_easy_one_does_not() -> None:
    e = BandwidthEstimate(value=1_000_000)
    e.on_remb(900_000, 400_000, 1.0)
    assert e.value == 1_000_000
    e.on_remb(200_000, 400_000, 2.0)
    assert e.value == 200_000


def test_allocation_pays_for_audio_then_base_layers_then_raises_in_order() -> None:
    assert allocate(2_000_000, 48_000, [VideoWant(LAYERED)]) == [ALL]
    assert allocate(300_000, 48_000, [VideoWant(LAYERED)]) == [1]
    assert allocate(150_000, 48_000, [VideoWant(LAYERED)]) == [0]  # never below TL0
    two = [VideoWant(LAYERED), VideoWant(LAYERED)]
    assert allocate(600_000, 96_000, two) == [1, 1]
    assert allocate(5_000_000, 0, [VideoWant((400_000.0,))]) == [ALL]  # no layers


def test_the_subscribers_own_limits_cap_the_layer() -> None:
    assert cap_for(True, None) == 0
    assert cap_for(False, 0) == 0
    assert cap_for(False, 120) == 1
    assert cap_for(False, 720) == ALL
    assert allocate(5_000_000, 0, [VideoWant(LAYERED, cap=cap_for(False, 120))]) == [1]
    assert allocate(5_000_000, 0, [VideoWant(LAYERED, cap=0)]) == [0]


def test_random_loss_of_five_percent_is_not_congestion() -> None:
    e = BandwidthEstimate(value=1_000_000)
    for i, fraction in enumerate([0.09, 0.02, 0.11, 0.03, 0.06, 0.12, 0.01, 0.05]):
        e.on_loss(fraction, 400_000, float(i))
        assert not e.congested  # lost packets are still resent
    assert e.decreases == 0
    e.on_loss(0.4, 400_000, 9.0)
    assert e.congested  # a link that is really full stops taking resends


def test_a_filling_queue_lowers_the_estimate_before_anything_is_lost() -> None:
    e = BandwidthEstimate(value=1_000_000)
    e.on_loss(0.0, 400_000, 0.0, rtt=0.002)
    grown = e.value
    e.on_loss(0.0, 400_000, 1.5, rtt=0.50)  # smoothed 250 ms more: queued once
    assert e.value == grown  # one slow report may be a busy receiver
    e.on_loss(0.0, 400_000, 1.6, rtt=0.50)  # twice in a row: the queue is real
    assert e.value == 400_000 * 0.85 and e.value < grown
    e.on_loss(0.0, 340_000, 5.0, rtt=0.02)  # draining, not calm yet: no probe
    e.on_loss(0.0, 340_000, 5.5, rtt=0.02)
    assert e.value == 400_000 * 0.85
    e.on_loss(0.0, 340_000, 6.0, rtt=0.002)  # calm: a probe
    assert e.value > 400_000 * 0.85


def test_no_probe_while_the_queue_stands() -> None:
    e = BandwidthEstimate(value=400_000)
    e.on_loss(0.0, 400_000, 0.0, rtt=0.002)
    e.on_loss(0.5, 400_000, 1.0, rtt=0.002)
    e.on_loss(0.5, 400_000, 1.5, rtt=0.002)  # sustained loss: down, held
    low = e.value
    assert low < 400_000
    e.on_loss(0.0, 300_000, 10.0, rtt=0.3)  # past the hold, but a queue stands
    assert e.value == low
    e.on_loss(0.0, 300_000, 11.0, rtt=0.003)
    assert e.value > low


def test_a_higher_encoding_is_probed_with_padding_before_the_estimate_takes_it() -> None:
    """The next rung is an encoding: the estimate stays while padding fills the link to
    its rate; a clean report late enough into the probe takes the estimate there."""
    e = BandwidthEstimate(value=300_000)
    e.encoding_to = 700_000  # more than 30 % growth reaches
    e.on_loss(0.0, 280_000, now=10.0)
    assert e.probing == 700_000 and e.value == 300_000
    e.on_loss(0.0, 280_000, now=10.3)  # echoes nothing: too soon to say anything
    assert e.probing == 700_000 and e.value == 300_000
    # clean, but its round trip is that of a sender report sent before the link's queue
    # could have filled: it says nothing either
    e.on_loss(0.0, 280_000, now=11.0, rtt=0.001, echoed_at=10.2)
    assert e.probing == 700_000 and e.value == 300_000
    e.on_loss(0.0, 280_000, now=11.0, rtt=0.001, echoed_at=10.5)
    assert e.probing is None and e.value == 700_000 and e.probes_won == 1
    # the next probe may start at the very next report
    e.encoding_to = 1_500_000
    e.on_loss(0.0, 650_000, now=11.0)
    assert e.probing == 1_500_000


def test_a_probe_that_meets_loss_or_a_queue_fails_without_lowering_the_estimate() -> None:
    e = BandwidthEstimate(value=300_000)
    e.encoding_to = 700_000
    e.on_loss(0.0, 280_000, now=10.0)
    e.on_loss(0.05, 280_000, now=10.4)  # the probe's own loss: it fails at once
    assert e.probing is None and e.value == 300_000 and e.probes_lost == 1
    assert not e.congested  # the loss was the probe's: resends go on
    assert e.hold == 1.0 and e.hold_until == 10.4 + 2.0  # not doubled: it cost no keyframe
    e.on_loss(0.0, 280_000, now=11.0)  # held: no probe yet
    assert e.probing is None
    e.on_loss(0.0, 280_000, now=12.5)
    assert e.probing == 700_000
    # a queue (round trip over the lowest) also ends it
    q = BandwidthEstimate(value=300_000)
    q.encoding_to = 700_000
    q.on_loss(0.0, 280_000, now=1.0, rtt=0.02)
    assert q.probing == 700_000
    q.on_loss(0.0, 280_000, now=1.8, rtt=0.3)
    assert q.probing is None and q.probes_lost == 1 and q.value == 300_000
    # and so does a REMB saying congested, with no decrease either
    r = BandwidthEstimate(value=300_000)
    r.encoding_to = 700_000
    r.on_loss(0.0, 280_000, now=1.0)
    r.on_remb(100_000, 280_000, now=1.5)
    assert r.probing is None and r.value == 300_000 and r.probes_lost == 1


def test_a_probe_without_padding_or_without_reports_proves_nothing() -> None:
    e = BandwidthEstimate(value=300_000)
    e.encoding_to = 700_000
    e.on_loss(0.0, 280_000, now=10.0)
    e.padded = False  # nothing could be copied
    e.on_loss(0.0, 280_000, now=11.0, rtt=0.001, echoed_at=10.6)
    assert e.probing is None and e.value == 300_000 and e.probes_lost == 1
    e.padded = True
    e.on_loss(0.0, 280_000, now=13.0)
    assert e.probing == 700_000
    e.expire(14.0)  # not yet
    assert e.probing == 700_000
    e.expire(16.0)  # no report for 3 s
    assert e.probing is None and e.probes_lost == 2


def test_growth_never_takes_a_higher_encoding_untried() -> None:
    """Growth that would reach the next encoding probes it first; a temporal layer
    below it is still taken straight away."""
    e = BandwidthEstimate(value=300_000)
    e.encoding_to = 350_000
    e.on_loss(0.0, 280_000, now=10.0)
    assert e.value == 300_000 and e.probing == 300_000 * 1.3  # to what growth asks
    t = BandwidthEstimate(value=300_000)
    t.probe_to, t.encoding_to = 400_000, 900_000  # TL1 of one track, then h of another
    t.on_loss(0.0, 280_000, now=10.0)
    assert t.value == 400_000 and t.probing is None
    t.probe_to, t.encoding_to = 600_000, 650_000  # the temporal step would reach it
    t.on_loss(0.0, 380_000, now=11.5)
    assert t.value == 400_000 and t.probing == 650_000


def test_the_next_encoding_is_the_rung_to_probe_with_padding() -> None:
    sim = [VideoWant(encodings=((100_000.0, 150_000.0), (300_000.0,), (600_000.0,)))]
    assert allocate_layers(300_000, 48_000, sim) == [(0, ALL)]
    up = next_encoding_bps(300_000, 48_000, sim)
    assert up is not None and allocate_layers(up, 48_000, sim) == [(1, ALL)]
    assert allocate_layers(up / 1.15 * 0.99, 48_000, sim) == [(0, ALL)]  # the headroom
    assert next_rung_bps(300_000, 48_000, sim) is None  # no temporal layer left
    # the low encoding's TL1 comes first, as a temporal rung
    assert next_encoding_bps(160_000, 48_000, sim) is None
    assert next_encoding_bps(5_000_000, 48_000, sim) is None  # the top one is taken
    rungs = choose(300_000, 48_000, sim)[1]
    assert rungs.encoding == up and rungs.temporal is None


def test_a_probe_aims_at_every_layer_then_one_encoding_at_a_time() -> None:
    e = BandwidthEstimate(value=300_000)
    e.encoding_to, e.top_to = 500_000, 1_400_000
    e.on_loss(0.0, 280_000, now=10.0)
    assert e.probing == 1_400_000  # the top at once
    e.on_loss(0.1, 280_000, now=10.5)  # too much
    e.on_loss(0.0, 280_000, now=13.0)
    assert e.probing == 500_000  # the next encoding only
    e.on_loss(0.1, 280_000, now=13.5)
    e.on_loss(0.0, 280_000, now=16.0)
    assert e.probing == 500_000  # still one at a time, after that one failed too
    e.on_loss(0.0, 280_000, now=17.0, rtt=0.001, echoed_at=16.5)
    assert e.value == 500_000 and e.probes_won == 1
    e.on_loss(0.0, 480_000, now=17.0)
    assert e.probing == 1_400_000  # one won: the top again


def test_a_probe_reads_its_echo_s_own_queue_and_leaves_no_queue_behind() -> None:
    """One echo 130 ms over the lowest round trip fails the probe (smoothed, it would
    read 65 ms: calm); the queue it built is not the media's at the next report."""
    e = BandwidthEstimate(value=300_000)
    e.on_loss(0.0, 280_000, now=1.0, rtt=0.001)  # the lowest round trip
    e.value, e.hold_until, e.encoding_to = 300_000, 0.0, 700_000
    e.on_loss(0.0, 280_000, now=2.0, rtt=0.001)
    assert e.probing == 700_000
    e.on_loss(0.0, 280_000, now=2.8, rtt=0.131, echoed_at=2.5)
    assert e.probing is None and e.probes_lost == 1 and e.value == 300_000
    e.on_loss(0.0, 280_000, now=3.0, rtt=0.25)  # the queue draining: one report
    e.on_loss(0.0, 280_000, now=3.2, rtt=0.02)
    assert e.value == 300_000 and e.decreases == 0 and not e.congested


def test_no_probe_at_the_ceiling_and_a_failed_switch_after_a_win_backs_off() -> None:
    e = BandwidthEstimate(value=2_500_000, ceiling=2_500_000)
    e.encoding_to = 3_000_000  # needs more than the link may ever be given
    e.on_loss(0.0, 2_000_000, now=1.0)
    assert e.probing is None and e.probes_won == 0
    w = BandwidthEstimate(value=300_000)
    w.encoding_to = 700_000
    w.on_loss(0.0, 280_000, now=1.0)
    w.on_loss(0.0, 280_000, now=2.0, rtt=0.001, echoed_at=1.5)
    assert w.value == 700_000
    w.encoding_to = None
    w.on_loss(0.5, 650_000, now=2.5)  # the switch up did not fit after all
    w.on_loss(0.5, 650_000, now=3.0)
    assert w.value < 700_000 and w.hold == 2.0  # doubled, as after a failed probe
    w.probing = 800_000.0
    w.cancel_probe()  # nothing left to find out: neither won nor lost
    assert w.probing is None and (w.probes_won, w.probes_lost) == (1, 0)
