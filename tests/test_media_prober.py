"""Padding probes (salon.media.embedded.prober, downlink.py): copies of a slot's recent
datagrams at the rate asked, and a subscriber taken to a higher simulcast encoding only
after its link took that rate (docs/media-design.md §6.9)."""

import asyncio
from types import SimpleNamespace

from salon.media.backend import TrackInfo
from salon.media.embedded.downlink import Downlink
from salon.media.embedded.forward import Published
from salon.media.embedded.prober import RECENT, SKIP_NEWEST, TICK_SECS, Prober
from tests.test_simulcast import Stream, fake_receiver, slot


class Copies:
    """A slot with `kept` datagrams of 1000 octets: records which it sent again."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self.sent: list[int] = []
        self.reports = 0

    def report_now(self) -> None:
        self.reports += 1

    def send_copy(self, back: int) -> int:
        if back >= self.kept:
            return 0
        self.sent.append(back)
        return 1000


def no_timer(prober: Prober) -> None:
    if prober._handle is not None:
        prober._handle.cancel()
        prober._handle = None


def ticking(prober: Prober, clock: list[float], seconds: float) -> None:
    """Run the prober's ticks by hand on the fake clock (its own timer cancelled)."""
    for _ in range(round(seconds / TICK_SECS)):
        no_timer(prober)
        clock[0] += TICK_SECS
        prober._tick()
    no_timer(prober)


async def test_copies_go_out_at_the_rate_asked_until_it_is_withdrawn() -> None:
    clock = [100.0]
    copies = Copies(kept=SKIP_NEWEST + RECENT)
    rate: list[float | None] = [400_000.0]
    filled: list[float] = []
    prober = Prober(lambda: copies, lambda now: rate[0], lambda: filled.append(clock[0]),
                    clock=lambda: clock[0])
    prober.start()
    assert prober.running
    ticking(prober, clock, 1.0)
    # once, when a queue the padding cannot pass has filled
    assert len(filled) == 1 and 100.39 < filled[0] < 100.43
    assert 49_000 <= prober.octets <= 51_000  # 400 kbit/s for a second
    assert prober.fed and prober.starved == 0
    # the latest ones in turn, but not the very newest (lost ones not NACKed yet)
    assert set(copies.sent) == set(range(SKIP_NEWEST, SKIP_NEWEST + RECENT))
    # a stalled loop sends no burst when it wakes
    before = prober.octets
    clock[0] += 2.0
    prober._tick()
    no_timer(prober)
    assert prober.octets - before <= 400_000 * 0.05 / 8 + 1000
    rate[0] = None  # the probe is over
    prober._tick()
    assert not prober.running


async def test_a_failing_tick_ends_the_probe_rather_than_leave_it_running() -> None:
    def broken(now: float) -> float:
        raise RuntimeError("boom")

    prober = Prober(lambda: Copies(kept=64), broken)
    prober.start()
    prober._tick()
    assert not prober.running and prober._handle is None
    prober.start()  # and it can start again
    assert prober.running
    prober.stop()


async def test_a_probe_with_nothing_to_copy_is_not_fed() -> None:
    clock = [0.0]
    empty = Copies(kept=0)
    prober = Prober(lambda: empty, lambda now: 300_000.0, clock=lambda: clock[0])
    prober.start()
    ticking(prober, clock, 0.5)
    assert prober.octets == 0 and prober.starved > 0 and not prober.fed
    nobody = Prober(lambda: None, lambda now: 300_000.0, clock=lambda: clock[0])
    nobody.start()
    ticking(nobody, clock, 0.5)
    assert not nobody.fed


async def test_a_subscriber_gets_the_higher_encoding_only_after_its_link_took_the_rate(
) -> None:
    """A real slot on q: the next encoding (h) is probed with copies of q's datagrams,
    then, after a clean report, the slot is retargeted to h; a lossy report ends the
    next probe and the slot stays."""
    plis: list[int] = []
    published = Published(TrackInfo("p:video", "p", "video", "video/VP8", "1"),
                          SimpleNamespace(kind="video"), fake_receiver(plis))
    published.payload_types = frozenset({96})
    published.set_simulcast(("q", "h", "f"))
    published.forwarding = True
    streams = [Stream("q", 1, 180, 100, 7), Stream("h", 2, 360, 9000, 50_000),
               Stream("f", 3, 720, 20_000, 900_000)]
    downstream, wire, _ = slot()
    reports: list[int] = []
    downstream.report_now = lambda: reports.append(1)
    downstream.attach(published)
    downstream.start()
    clock = [0.0]
    downlink = Downlink(lambda: [downstream], 5_000_000, clock=lambda: clock[0])
    # the encodings as measured (their measurement has tests of its own)
    published.spatial_rates = lambda now: ((150_000.0,), (400_000.0,), (900_000.0,))

    def second(keys: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        """A second of all three encodings (each frame two packets)."""
        for n in range(8):
            for stream in streams:
                for packet in stream.frame(n == 0 and stream.rid in keys):
                    published._on_rtp(packet, False)
            clock[0] += 0.125

    second({"q", "h", "f"})
    downlink.estimate.value = 250_000
    downlink.apply()  # q fits 250 kbit/s
    await asyncio.sleep(0)
    second({"q"})
    assert downstream.spatial is published.encodings[0]
    downlink.apply()
    second()
    downlink.estimate.hold_until = 0.0
    downlink.on_loss(0.0)  # clean: a probe, aimed at the top first (f, 900 kbit/s)
    estimate = downlink.estimate
    assert estimate.probing is not None and estimate.probing > 1_000_000
    assert estimate.value == 250_000 and downlink.prober.running
    assert downstream.spatial_target is published.encodings[0]  # not switched
    before = len(wire.sent)
    ticking(downlink.prober, clock, 0.5)
    copies = wire.sent[before:]
    assert copies and set(copies) <= set(wire.sent[:before])  # datagrams sent already
    assert reports == [1]  # a sender report through the filled link, 0.4 s in
    downlink.on_loss(0.08)  # loss: the probe ends; the estimate and the slot stay
    assert estimate.probes_lost == 1 and estimate.value == 250_000
    assert estimate.probing is None and not downlink.prober.running
    assert downstream.spatial_target is published.encodings[0]
    # two seconds on, the next probe aims one encoding up (h, 400 kbit/s)
    second()
    downlink.on_loss(0.0)
    downlink.on_loss(0.0)
    second()
    downlink.on_loss(0.0)
    assert estimate.probing is not None and estimate.probing < 900_000
    ticking(downlink.prober, clock, 0.8)
    assert downlink.prober.fed and reports == [1, 1]
    downlink.on_loss(0.0)  # clean, but echoes no sender report: says nothing yet
    assert estimate.probing is not None
    downlink.on_loss(0.0, 0.001, 0.2)  # echoes the one sent 0.6 s into the probe
    assert estimate.probes_won == 1 and estimate.probing is None
    assert estimate.value >= 400_000
    assert downstream.spatial_target is published.encodings[1]  # h, from its keyframe
    assert not downlink.prober.running
    # a probe won: the next one aims at the top again
    downlink.on_loss(0.0)
    assert estimate.probing is not None and estimate.probing > 1_000_000
    assert downlink.probe_figures() == {"won": 1, "lost": 1,
                                        "copies": downlink.prober.packets}
    # the subscriber turns data saver on: nothing higher to try, the probe just ends
    downlink.data_saver = True
    downlink.apply()
    assert estimate.probing is None and estimate.probes_lost == 1
    ticking(downlink.prober, clock, 0.1)
    assert not downlink.prober.running
    # a datagram the subscriber said it lost is never a copy (its copy would be a resend)
    newest = (downstream.lane.next_seq - 1 - 10) & 0xFFFF
    assert downstream.send_copy(10) > 0
    downstream.lane.count_resend(newest)
    assert downstream.send_copy(10) == 0
    downlink.close()
    assert not downlink.prober.running
