"""Which temporal layer each of one subscriber's video tracks gets (docs/media-design.md
§6.9): the best that fits the subscriber's bandwidth estimate once audio is paid for,
never above what the subscriber asked for (data saver, the size it renders a tile at).

Audio first: its measured rate comes off the estimate before any video. Then every
video track gets its base layer (TL0 is never dropped: below it there is only a frozen
picture), then tracks are raised one layer at a time, in the subscriber's order, while
the next layer fits.

Pure: no I/O (tests/test_media_selector.py).
"""

from dataclasses import dataclass

from salon.media.embedded.layers import ALL

#: Headroom kept above a layer's measured rate before it counts as fitting.
MARGIN = 1.1
#: A tile rendered at most this tall gets at most TL1 (half the frame rate).
SMALL_TILE_PX = 180


@dataclass(frozen=True)
class VideoWant:
    """One video track on the subscriber's connection.

    `rates[n]` is the measured rate (bits/s) of layers 0..n together; a stream without
    temporal layers has one entry. `cap` is the highest layer the subscriber accepts."""

    rates: tuple[float, ...]
    cap: int = ALL


def cap_for(data_saver: bool, rendered_height: int | None) -> int:
    """The subscriber's own limit: data saver takes the base layer only; a tile not
    shown (height 0) takes the base layer, a thumbnail at most TL1."""
    if data_saver:
        return 0
    if rendered_height is not None:
        if rendered_height <= 0:
            return 0
        if rendered_height <= SMALL_TILE_PX:
            return 1
    return ALL


def allocate(estimate: float, audio_bps: float, videos: list[VideoWant]) -> list[int]:
    """The layer limit for each video track, in order (`ALL` when a stream has no
    layers above what it got, so new layers are not dropped by accident)."""
    budget = estimate - audio_bps
    chosen = [0] * len(videos)
    for v in videos:
        budget -= v.rates[0] * MARGIN if v.rates else 0
    raised = True
    while raised:
        raised = False
        for i, v in enumerate(videos):
            n = chosen[i]
            if n + 1 < len(v.rates) and n + 1 <= v.cap:
                step = (v.rates[n + 1] - v.rates[n]) * MARGIN
                if step <= budget:
                    budget -= step
                    chosen[i] = n + 1
                    raised = True
    return [ALL if (c + 1 >= len(v.rates) and v.cap >= ALL) else c
            for c, v in zip(chosen, videos, strict=True)]
