"""Which layers each of one subscriber's video tracks gets (docs/media-design.md §6.9,
§6.10): the best that fits the subscriber's bandwidth estimate once audio is paid for,
never above what the subscriber asked for (data saver, the size it renders a tile at).

Audio first: its measured rate comes off the estimate before any video. Then every
video track gets its base rung (TL0 of its lowest encoding: below it there is only a
frozen picture), then tracks are raised one rung at a time, in the subscriber's order,
while the next rung fits. A track's rungs are its temporal layers; a simulcast track's
are the temporal layers of its lowest encoding, then each higher encoding whole (all
its temporal layers): frame rate first, then resolution — a 300 kbit/s link gets the
low encoding at full rate rather than a sharper picture at a quarter of it.

Pure: no I/O (tests/test_media_selector.py).
"""

from dataclasses import dataclass

from salon.media.embedded.layers import ALL

#: Headroom kept above a layer's measured rate before it counts as fitting.
MARGIN = 1.1
#: A probe to the next temporal layer asks this much more than it needs: layers' rates
#: are measured and vary (a keyframe, a busier scene), and an estimate just at the
#: threshold dropped the layer again within a second.
PROBE_HEADROOM = 1.15
#: A tile rendered at most this tall gets at most TL1 (half the frame rate).
SMALL_TILE_PX = 180


@dataclass(frozen=True)
class VideoWant:
    """One video track on the subscriber's connection.

    `rates[n]` is the measured rate (bits/s) of layers 0..n together; a stream without
    temporal layers has one entry. `cap` is the highest layer the subscriber accepts.
    A simulcast track gives `encodings` instead: each encoding's `rates`, low to high
    (an encoding measured at 0 is not sending and is never chosen), and `spatial_cap`,
    the highest encoding the subscriber accepts."""

    rates: tuple[float, ...] = (0.0,)
    cap: int = ALL
    encodings: tuple[tuple[float, ...], ...] = ()
    spatial_cap: int = 99

    def rungs(self) -> list[tuple[int, int, float]]:
        """(encoding, temporal layer, cumulative rate) from the least to the most."""
        if not self.encodings:
            return [(0, t, r) for t, r in enumerate(self.rates) if t <= self.cap]
        sending = [(s, rates) for s, rates in enumerate(self.encodings)
                   if rates and rates[-1] > 0]
        if not sending:
            return [(0, 0, 0.0)]
        low, low_rates = sending[0]
        out = [(low, t, r) for t, r in enumerate(low_rates) if t <= self.cap]
        if self.cap >= ALL:
            for s, rates in sending[1:]:
                if s <= self.spatial_cap:
                    out.append((s, len(rates) - 1, rates[-1]))
        return out


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


def simulcast_caps(data_saver: bool, rendered_height: int | None,
                   heights: list[int]) -> tuple[int, int]:
    """(highest encoding, highest temporal layer) a subscriber accepts of a simulcast
    track whose encodings are `heights` px high (0: not known yet), low to high. Data
    saver or a tile not shown: the lowest encoding's base layer. A rendered tile: the
    lowest encoding at least as tall (a thumbnail gets the lowest one), every frame."""
    top = max(0, len(heights) - 1)
    if data_saver:
        return 0, 0
    if rendered_height is None:
        return top, ALL
    if rendered_height <= 0:
        return 0, 0
    if not any(heights):
        return (0 if rendered_height <= SMALL_TILE_PX else top), ALL
    for s, height in enumerate(heights):
        if height >= rendered_height:
            return s, ALL
    return top, ALL


#: Each track's chosen rung (an index into its ladder), the ladders of (encoding,
#: temporal layer, cumulative rate), and the budget left: what `_climb` found.
Climb = tuple[list[int], list[list[tuple[int, int, float]]], float]


def _climb(estimate: float, audio_bps: float, videos: list[VideoWant]) -> Climb:
    """Each track's rung (index into its ladder), the ladders, and the budget left."""
    budget = estimate - audio_bps
    ladders = [v.rungs() or [(0, 0, 0.0)] for v in videos]
    chosen = [0] * len(videos)
    for ladder in ladders:
        budget -= ladder[0][2] * MARGIN
    raised = True
    while raised:
        raised = False
        for i, ladder in enumerate(ladders):
            n = chosen[i]
            if n + 1 < len(ladder):
                step = (ladder[n + 1][2] - ladder[n][2]) * MARGIN
                if step <= budget:
                    budget -= step
                    chosen[i] = n + 1
                    raised = True
    return chosen, ladders, budget


@dataclass(frozen=True)
class NextRungs:
    """The estimates at which one more rung of some track fits (with `PROBE_HEADROOM`),
    or None: `temporal`, a temporal layer of the encoding a track gets (probed by
    raising the estimate straight to it); `encoding`, a higher encoding (probed with
    padding first, `estimator.BandwidthEstimate`); `top`, every rung of every track,
    when some is still missing (a padding probe aims there first: one probe, not one
    per encoding, once a limit is lifted)."""

    temporal: float | None = None
    encoding: float | None = None
    top: float | None = None


def choose(estimate: float, audio_bps: float, videos: list[VideoWant]
           ) -> tuple[list[tuple[int, int]], NextRungs]:
    """`allocate_layers` and both next rungs from one climb (a downlink wants them all
    at every report)."""
    climbed = _climb(estimate, audio_bps, videos)
    return _layers(climbed, videos), NextRungs(_next_rung(estimate, climbed, False),
                                               _next_rung(estimate, climbed, True),
                                               _top(estimate, climbed))


def allocate_layers(estimate: float, audio_bps: float,
                    videos: list[VideoWant]) -> list[tuple[int, int]]:
    """(encoding, temporal layer limit) for each video track, in order; the limit is
    `ALL` when the chosen encoding has no layers above what it got, so new layers are
    not dropped by accident."""
    return _layers(_climb(estimate, audio_bps, videos), videos)


def next_rung_bps(estimate: float, audio_bps: float,
                  videos: list[VideoWant]) -> float | None:
    """The estimate at which one more temporal layer of some track fits, with
    `PROBE_HEADROOM`, or None.
    The estimator probes straight to it: a temporal layer costs nothing to try (no
    keyframe; dropped at once if it does not fit), and growing 30 % a report towards a
    layer twice the rate made the climb back after a congested spell take several
    report intervals longer. A higher encoding is not probed this way: trying one
    costs a keyframe burst into the link and, if it does not fit, a keyframe of the
    lower one to come back: the estimator probes it with padding first
    (`next_encoding_bps`)."""
    return _next_rung(estimate, _climb(estimate, audio_bps, videos), False)


def next_encoding_bps(estimate: float, audio_bps: float,
                      videos: list[VideoWant]) -> float | None:
    """The estimate at which some simulcast track's next encoding fits, with
    `PROBE_HEADROOM`, or None."""
    return _next_rung(estimate, _climb(estimate, audio_bps, videos), True)


def _layers(climbed: Climb, videos: list[VideoWant]) -> list[tuple[int, int]]:
    chosen, ladders, _ = climbed
    out = []
    for n, ladder, v in zip(chosen, ladders, videos, strict=True):
        s, t, _ = ladder[n]
        layers = v.encodings[s] if v.encodings else v.rates
        out.append((s, ALL if (t + 1 >= len(layers) and v.cap >= ALL) else t))
    return out


def _next_rung(estimate: float, climbed: Climb, encoding: bool) -> float | None:
    """The smallest step to a next rung of the kind asked for (a higher encoding, or a
    temporal layer of the same one), as an estimate."""
    chosen, ladders, budget = climbed
    steps = [(ladder[n + 1][2] - ladder[n][2]) * MARGIN
             for n, ladder in zip(chosen, ladders, strict=True)
             if n + 1 < len(ladder) and (ladder[n + 1][0] != ladder[n][0]) == encoding]
    if not steps:
        return None
    return (estimate + max(0.0, min(steps) - budget)) * PROBE_HEADROOM


def _top(estimate: float, climbed: Climb) -> float | None:
    """The estimate at which every track gets the top of its ladder, or None if each
    has it already."""
    chosen, ladders, budget = climbed
    if not any(n + 1 < len(ladder) for n, ladder in zip(chosen, ladders, strict=True)):
        return None
    more = sum((ladder[-1][2] - ladder[n][2]) * MARGIN
               for n, ladder in zip(chosen, ladders, strict=True))
    return (estimate + max(0.0, more - budget)) * PROBE_HEADROOM


def allocate(estimate: float, audio_bps: float, videos: list[VideoWant]) -> list[int]:
    """The temporal layer limit for each video track, in order (`allocate_layers`
    without the encodings)."""
    return [t for _, t in allocate_layers(estimate, audio_bps, videos)]
