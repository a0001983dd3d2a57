"""VoiceClock: a voice's packets on the sender's RTP clock, so that packets held back
and then delivered in a burst are not taken for a pause (salon.transcription.voice)."""

import pytest

from salon.transcription.voice import VoiceClock

FRAME = 960  # 20 ms at 48 kHz


def stamps(clock: VoiceClock, packets: list[tuple[int, float]]) -> list[float]:
    return [clock.at(rtp, arrived) for rtp, arrived in packets]


def test_packets_paced_as_spoken_are_stamped_a_frame_before_they_arrive() -> None:
    clock = VoiceClock()
    packets = [(5000 + i * FRAME, 100.0 + i * 0.02) for i in range(10)]
    assert stamps(clock, packets) == pytest.approx([a - 0.02 for _, a in packets])


def test_a_stall_then_a_burst_keeps_the_voice_continuous() -> None:
    """Nothing arrives for 0.8 s (a busy machine, a jittery link), then the 40 packets
    held back arrive at once and the rest on time again: stamped on the RTP clock they
    follow each other 20 ms apart, no hole."""
    clock = VoiceClock()
    arrivals = [100.0 + (50 * 0.02 if 10 <= i < 50 else i * 0.02) for i in range(70)]
    at = stamps(clock, [(i * FRAME, a) for i, a in enumerate(arrivals)])
    steps = [b - a for a, b in zip(at, at[1:], strict=False)]
    assert steps == pytest.approx([0.02] * 69)
    assert at[0] == pytest.approx(99.98)
    assert at[-1] == pytest.approx(arrivals[-1] - 0.02)  # on time again


def test_a_late_first_packet_is_pulled_back_by_the_next_on_time() -> None:
    clock = VoiceClock()
    first = clock.at(0, 100.3)  # held back 0.3 s
    assert first == pytest.approx(100.28)
    assert clock.at(FRAME, 100.04) == pytest.approx(100.02)  # sooner than RTP says


def test_a_jump_of_the_rtp_clock_is_a_pause_of_that_length() -> None:
    """Packets lost or DTX: the RTP clock moved on 1 s, and so does the voice."""
    clock = VoiceClock()
    clock.at(0, 100.0)
    assert clock.at(FRAME + 48000, 101.04) == pytest.approx(99.98 + 1.02)


@pytest.mark.parametrize("rtp_after, arrived_after", [
    (3 * 48000, 3.0),           # the RTP clock jumped past the gap: a new stretch
    (FRAME, 2.5),               # nothing came for 2.5 s, the RTP clock stood still (mute)
    ((-48000) & 0xFFFFFFFF, 0.02),  # the RTP clock went back (a new source)
])
def test_a_new_stretch_starts_on_the_wall_clock(rtp_after: int, arrived_after: float) -> None:
    clock = VoiceClock()
    clock.at(1000, 100.0)
    assert clock.at((1000 + rtp_after) & 0xFFFFFFFF, 100.0 + arrived_after) == \
        pytest.approx(100.0 + arrived_after - 0.02)


def test_the_rtp_timestamp_wraps() -> None:
    clock = VoiceClock()
    clock.at(0xFFFFFFFF - FRAME + 1, 100.0)
    assert clock.at(0, 100.02) == pytest.approx(100.0)  # one frame on, across the wrap
