"""A subscriber's downlink (salon.media.embedded.downlink) and the feedback hook that feeds
it (sender_hooks.hook_feedback): which reports choose layers again, and which reach
aiortc's own handling."""

from types import SimpleNamespace

from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    pack_remb_fci,
)

from salon.media.embedded import sender_hooks
from salon.media.embedded.downlink import STEADY_APPLY_SECS, Downlink
from tests.test_media_prober import no_timer, ticking


def counting_downlink(clock: list[float]) -> tuple[Downlink, list[float]]:
    """A downlink with no slots, at its ceiling (clean reports cannot grow it), whose
    layer choices are recorded by time."""
    downlink = Downlink(lambda: [], 1_000_000, clock=lambda: clock[0])
    chosen: list[float] = []
    apply = downlink.apply

    def counting(now: float | None = None) -> None:
        chosen.append(clock[0])
        apply(now)

    downlink.apply = counting  # type: ignore[method-assign]
    return downlink, chosen


def test_layers_are_chosen_again_when_the_estimate_moves_and_twice_a_second_otherwise(
) -> None:
    clock = [10.0]
    downlink, chosen = counting_downlink(clock)
    downlink.on_loss(0.0)
    assert chosen == [10.0]  # the first report
    for at in (10.1, 10.2, 10.3):  # nothing moves: the same choice would be made
        clock[0] = at
        downlink.on_loss(0.0)
        downlink.on_remb(2_000_000)
    assert chosen == [10.0]
    clock[0] = 10.0 + STEADY_APPLY_SECS
    downlink.on_loss(0.0)
    assert chosen == [10.0, 10.5]  # half a second on: the publishers' rates may have moved
    clock[0] = 10.6
    downlink.on_loss(0.5)  # heavy loss: the estimate drops, layers follow at once
    assert downlink.estimate.value < 1_000_000 and downlink.estimate.congested
    assert chosen == [10.0, 10.5, 10.6]
    clock[0] = 10.7
    downlink.on_loss(0.5)  # still lossy, but already at the floor: nothing new to choose
    assert chosen == [10.0, 10.5, 10.6]
    clock[0] = 10.8
    downlink.on_loss(0.0)  # clean again: no longer congested, so at once
    assert not downlink.estimate.congested and chosen[-1] == 10.8


def test_receiver_reports_feed_the_estimate_and_stop_there() -> None:
    """Reports are salon's alone; REMB and keyframe requests reach aiortc too."""
    seen_by_aiortc: list = []

    async def aiortc_handling(packet) -> None:
        seen_by_aiortc.append(packet)

    sender = SimpleNamespace(_ssrc=77, _handle_rtcp_packet=aiortc_handling)
    losses: list[tuple] = []
    rembs: list[int] = []
    sender_hooks.hook_feedback(sender, lambda *report: losses.append(report), rembs.append)
    report = RtcpRrPacket(ssrc=5, reports=[
        RtcpReceiverInfo(ssrc=77, fraction_lost=64, packets_lost=3, highest_sequence=100,
                         jitter=0, lsr=0, dlsr=0),
        RtcpReceiverInfo(ssrc=78, fraction_lost=128, packets_lost=9, highest_sequence=5,
                         jitter=0, lsr=0, dlsr=0)])
    remb = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=5, media_ssrc=0,
                          fci=pack_remb_fci(300_000, [77]))
    pli = RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=5, media_ssrc=77)

    def run(packet) -> None:
        coroutine = sender._handle_rtcp_packet(packet)
        try:
            coroutine.send(None)
        except StopIteration:
            return
        raise AssertionError("the hook waited for something")

    run(report)
    assert losses == [(0.25, None, None)]  # its own block only; no round trip echoed
    assert seen_by_aiortc == []
    run(remb)
    assert rembs == [300_000] and seen_by_aiortc == [remb]
    run(pli)
    assert seen_by_aiortc == [remb, pli] and len(losses) == 1


async def test_a_probe_that_filled_the_link_has_every_sending_stream_report() -> None:
    """Whichever of the subscriber's receivers reports first judges the probe: each
    stream that is sending gets a sender report through the filled link."""
    clock = [0.0]
    reported: list[str] = []

    def slot(name: str, kind: str, sent: int, source: bool = True) -> SimpleNamespace:
        return SimpleNamespace(
            kind=kind, sent=sent, source=SimpleNamespace(is_video=kind == "video")
            if source else None, send_copy=lambda back: 1000,
            report_now=lambda: reported.append(name))

    slots = [slot("camera", "video", 90), slot("voice", "audio", 40),
             slot("not yet", "video", 0), slot("idle", "audio", 7, source=False)]
    downlink = Downlink(lambda: slots, 300_000, clock=lambda: clock[0])
    downlink.estimate.probing, downlink.estimate.probe_started = 1_000_000.0, 0.0
    downlink.prober.start()
    no_timer(downlink.prober)
    ticking(downlink.prober, clock, 0.3)
    assert reported == []  # not filled yet
    ticking(downlink.prober, clock, 0.2)
    assert reported == ["camera", "voice"]
    downlink.prober.stop()
