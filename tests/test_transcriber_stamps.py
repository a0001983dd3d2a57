"""The transcriber hands the captioner each voice on the voice's own RTP clock
(salon.transcription.voice.VoiceClock), not stamped by arrival: packets held back by a
stall and delivered at once are not a pause that would cut the caption in two."""

import asyncio
import fractions
from types import SimpleNamespace

import av
import numpy as np

from salon.transcription.listener import Transcriber
from salon.transcription.spec import TranscriberSpec

FRAME = 960  # 20 ms at 48 kHz


def opus_packets(count: int) -> list[av.Packet]:
    """`count` 20 ms Opus packets of a tone, each with its RTP timestamp in `pts`."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "mono", "s16"
    encoder.time_base = fractions.Fraction(1, 48000)
    packets = []
    for i in range(count + 4):
        t = (i * FRAME + np.arange(FRAME)) / 48000
        samples = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate, frame.pts = 48000, i * FRAME
        packets.extend(encoder.encode(frame))
    for n, packet in enumerate(packets[:count]):
        packet.pts = 1_000_000 + n * FRAME
    return packets[:count]


class StalledVoice:
    """A remote audio track whose packets 10..34 are held back 0.5 s, then delivered
    together; the others come every 20 ms."""

    def __init__(self) -> None:
        self.track_id, self.peer_id, self.kind = "peer-a:audio", "peer-a", "audio"
        self.packets = opus_packets(45)

    async def frames(self, maxsize: int = 0):
        for n, packet in enumerate(self.packets):
            if n < 10 or n >= 35:
                await asyncio.sleep(0.02)
            elif n == 10:
                await asyncio.sleep(0.5)
            yield packet


async def test_a_stall_is_not_a_pause_in_what_the_captioner_hears() -> None:
    spec = TranscriberSpec(recording_id="t", session_id="s", gateway_url="ws://unused",
                           token="unused", capture_dir=None)
    transcriber = Transcriber(spec, SimpleNamespace())
    transcriber.roster["peer-a"] = {"peer_id": "peer-a", "transcribed": True}
    fed: list[tuple[str, int, float]] = []
    transcriber.captioner = SimpleNamespace(
        feed=lambda speaker, samples, at: fed.append((speaker, samples.size, at)))
    await transcriber._consume(StalledVoice())
    assert len(fed) >= 43 and {speaker for speaker, _, _ in fed} == {"peer-a"}
    # about 20 ms at 16 kHz each (the resampler holds a few samples back at first)
    assert abs(sum(size for _, size, _ in fed) - 45 * 320) <= 2 * 320
    steps = [b[2] - a[2] for a, b in zip(fed, fed[1:], strict=False)]
    # 20 ms apart on the voice's clock (a few ms less where an on-time packet pulls the
    # stretch earlier): the 0.5 s without packets is not there
    assert max(steps) < 0.05, steps
    assert sum(steps) < len(steps) * 0.02 + 0.05
