"""Where each tile goes on the composite: pure geometry, no media.

The rules (docs/recording.md § Layout):
- a screenshare takes the main area (the left three quarters); everyone on stage goes in
  the strip on the right, the active speaker first;
- without a screenshare, one or two people split the picture evenly; from three people
  on, the active speaker takes the main area and the others the strip; with no speaker
  known yet, everyone gets an equal cell of a grid;
- at most `MAX_TILES` people are shown: the speaker first, then in joining order.

Rectangles are even-aligned (x, y, width, height), so yuv420p chroma planes line up.
"""

import math
from dataclasses import dataclass

#: RealtimeKit's composite shows up to 9 people; more would be unreadable at 720p.
MAX_TILES = 9
#: The main area's share of the width when someone is emphasised.
MAIN_SHARE = 0.75


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def inset(self, margin: int) -> "Rect":
        """The rectangle shrunk by `margin` on each side (gaps between tiles)."""
        return Rect(self.x + margin, self.y + margin,
                    max(2, self.width - 2 * margin), max(2, self.height - 2 * margin))

    def fit(self, width: int, height: int) -> "Rect":
        """The largest rectangle of aspect `width:height` centred inside this one (the
        picture is letterboxed, never stretched)."""
        scale = min(self.width / width, self.height / height)
        w, h = _even(width * scale), _even(height * scale)
        return Rect(_at(self.x + (self.width - w) / 2), _at(self.y + (self.height - h) / 2),
                    w, h)


@dataclass(frozen=True)
class Tile:
    #: The peer shown; for the screenshare, the peer sharing.
    peer_id: str
    #: "camera" (the camera or the initials tile) or "screenshare".
    role: str
    rect: Rect


def _even(value: float) -> int:
    """A size: even, at least 2."""
    return max(2, int(value) // 2 * 2)


def _at(value: float) -> int:
    """A position: even, at least 0."""
    return max(0, int(value) // 2 * 2)


def grid(area: Rect, count: int) -> list[Rect]:
    """`count` equal cells filling `area`, rows of `cols` as close to the area's shape
    as possible; the last row is centred."""
    if count <= 0:
        return []
    best = None
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        cell = min(area.width / cols / 16, area.height / rows / 9)  # 16:9 cells
        if best is None or cell >= best[0]:  # ties: more columns (side by side)
            best = (cell, cols, rows)
    _, cols, rows = best
    w, h = area.width / cols, area.height / rows
    cells = []
    for index in range(count):
        row, col = divmod(index, cols)
        in_row = min(cols, count - row * cols)
        offset = (cols - in_row) * w / 2
        cells.append(Rect(_at(area.x + offset + col * w), _at(area.y + row * h),
                          _even(w), _even(h)))
    return cells


def strip(area: Rect, count: int) -> list[Rect]:
    """`count` cells stacked in `area` (the strip beside the main area): 16:9 cells,
    in two columns once one column would make them too small."""
    if count <= 0:
        return []
    cols = 1 if count <= 4 else 2
    rows = math.ceil(count / cols)
    w = area.width / cols
    h = min(area.height / rows, w * 9 / 16)
    top = area.y + (area.height - rows * h) / 2
    return [Rect(_at(area.x + (i % cols) * w), _at(top + (i // cols) * h),
                 _even(w), _even(h)) for i in range(count)]


def arrange(width: int, height: int, people: list[str], speaker: str | None = None,
            screenshare: str | None = None, margin: int = 4) -> list[Tile]:
    """The tiles for `people` (peer ids in joining order) on a `width`×`height` canvas,
    with `speaker` emphasised and `screenshare` (the sharing peer) in the main area."""
    canvas = Rect(0, 0, width, height)
    shown = list(people)
    if speaker in shown:
        shown.remove(speaker)
        shown.insert(0, speaker)
    shown = shown[:MAX_TILES]
    main_w = _even(width * MAIN_SHARE)
    main = Rect(0, 0, main_w, height)
    side = Rect(main_w, 0, width - main_w, height)
    if screenshare is not None:
        tiles = [Tile(screenshare, "screenshare", main.inset(margin))]
        return tiles + [Tile(p, "camera", r.inset(margin))
                        for p, r in zip(shown, strip(side, len(shown)), strict=True)]
    if len(shown) >= 3 and speaker in shown:
        tiles = [Tile(speaker, "camera", main.inset(margin))]
        others = shown[1:]
        return tiles + [Tile(p, "camera", r.inset(margin))
                        for p, r in zip(others, strip(side, len(others)), strict=True)]
    return [Tile(p, "camera", r.inset(margin))
            for p, r in zip(shown, grid(canvas, len(shown)), strict=True)]
