"""The composite picture: decoded camera and screenshare frames, scaled into their tiles
(layout.py), with initials for cameras that are off, name labels and the watermark,
drawn onto one yuv420p canvas per output frame.

Scaling is swscale's (`VideoFrame.reformat`, which releases the GIL); a tile is scaled
once per new frame and its last picture reused on ticks where nothing new arrived.
Everything else is numpy slicing of the three planes.
"""

import logging
from dataclasses import dataclass

import av
import numpy as np

from salon.recording import labels
from salon.recording.labels import Overlay, Planes
from salon.recording.layout import Rect, Tile

log = logging.getLogger("salon.recording.compositor")

#: The canvas and letterbox colour (dark grey, in limited-range YUV).
BACKGROUND = (24, 128, 128)
TILE_BACKGROUND = (40, 128, 128)


def blit(canvas: Planes, planes: Planes, x: int, y: int) -> None:
    """Copy `planes` onto `canvas` at even (x, y), clipped to the canvas."""
    w, h = planes.size
    cw, ch = canvas.size
    w, h = min(w, cw - x), min(h, ch - y)
    if w <= 0 or h <= 0:
        return
    canvas.y[y:y + h, x:x + w] = planes.y[:h, :w]
    canvas.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = planes.u[:h // 2, :w // 2]
    canvas.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = planes.v[:h // 2, :w // 2]


def _mix(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray) -> None:
    dst[:] = ((src.astype(np.uint16) * alpha + dst.astype(np.uint16) * (255 - alpha))
              // 255).astype(np.uint8)


def blend(canvas: Planes, overlay: Overlay, x: int, y: int) -> None:
    """Alpha-blend `overlay` onto `canvas` at even (x, y), clipped to the canvas."""
    w, h = overlay.planes.size
    cw, ch = canvas.size
    w, h = min(w, cw - x) // 2 * 2, min(h, ch - y) // 2 * 2
    if w <= 0 or h <= 0:
        return
    p = overlay.planes
    _mix(canvas.y[y:y + h, x:x + w], p.y[:h, :w], overlay.alpha[:h, :w])
    cy, cx, chh, cww = y // 2, x // 2, h // 2, w // 2
    _mix(canvas.u[cy:cy + chh, cx:cx + cww], p.u[:chh, :cww], overlay.alpha_chroma[:chh, :cww])
    _mix(canvas.v[cy:cy + chh, cx:cx + cww], p.v[:chh, :cww], overlay.alpha_chroma[:chh, :cww])


def fill(canvas: Planes, rect: Rect, colour: tuple[int, int, int]) -> None:
    canvas.y[rect.y:rect.y + rect.height, rect.x:rect.x + rect.width] = colour[0]
    cy, cx = rect.y // 2, rect.x // 2
    canvas.u[cy:cy + rect.height // 2, cx:cx + rect.width // 2] = colour[1]
    canvas.v[cy:cy + rect.height // 2, cx:cx + rect.width // 2] = colour[2]


@dataclass
class _Scaled:
    frame: av.VideoFrame
    size: tuple[int, int]
    planes: Planes


class Compositor:
    """Holds the latest decoded frame of each video track and draws the composite."""

    def __init__(self, width: int, height: int, watermark: Overlay | None = None,
                 watermark_position: str = "left top") -> None:
        if width % 4 or height % 4:
            raise ValueError("the composite's width and height must be multiples of 4")
        self.width, self.height = width, height
        self.watermark = watermark
        self.watermark_at = (labels.corner(watermark_position, watermark.planes.size,
                                           (width, height)) if watermark else (0, 0))
        self._frames: dict[str, av.VideoFrame] = {}
        self._scaled: dict[str, _Scaled] = {}

    # --- inputs ---------------------------------------------------------------------------

    def set_frame(self, track_id: str, frame: av.VideoFrame) -> None:
        """The newest picture of `track_id` (`<peer_id>:video` or `:screenshare`)."""
        self._frames[track_id] = frame

    def drop(self, track_id: str) -> None:
        """The track ended: its tile falls back to initials (or the background)."""
        self._frames.pop(track_id, None)
        self._scaled.pop(track_id, None)

    def has_frame(self, track_id: str) -> bool:
        return track_id in self._frames

    # --- drawing --------------------------------------------------------------------------

    def _picture(self, track_id: str, rect: Rect) -> tuple[Planes, Rect] | None:
        """The track's last frame scaled to fit `rect` (cached until a new frame)."""
        frame = self._frames.get(track_id)
        if frame is None:
            return None
        fitted = rect.fit(frame.width, frame.height)
        size = (fitted.width, fitted.height)
        cached = self._scaled.get(track_id)
        if cached is None or cached.frame is not frame or cached.size != size:
            scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p",
                                    interpolation="FAST_BILINEAR")
            cached = self._scaled[track_id] = _Scaled(frame, size, labels.planes_of(scaled))
        return cached.planes, fitted

    def compose(self, tiles: list[Tile], names: dict[str, str],
                cameras_on: set[str]) -> av.VideoFrame:
        """One output frame: `tiles` from layout.arrange, `names` by peer id, the peers
        whose camera is on (the others get their initials)."""
        # drawn straight into a new frame's planes (a fresh one each time: the encoder
        # thread may still hold the previous one)
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        canvas = labels.planes_of(frame)
        canvas.y[:] = BACKGROUND[0]
        canvas.u[:] = BACKGROUND[1]
        canvas.v[:] = BACKGROUND[2]
        for tile in tiles:
            self._draw(canvas, tile, names.get(tile.peer_id, ""),
                       tile.peer_id in cameras_on)
        if self.watermark is not None:
            blend(canvas, self.watermark, *self.watermark_at)
        return frame

    def _draw(self, canvas: Planes, tile: Tile, name: str, camera_on: bool) -> None:
        rect = tile.rect
        track_id = f"{tile.peer_id}:{'screenshare' if tile.role == 'screenshare' else 'video'}"
        picture = self._picture(track_id, rect) if (camera_on or tile.role == "screenshare") \
            else None
        if picture is not None:
            fill(canvas, rect, TILE_BACKGROUND)
            blit(canvas, picture[0], picture[1].x, picture[1].y)
        elif tile.role == "screenshare":
            fill(canvas, rect, TILE_BACKGROUND)
        else:
            blit(canvas, labels.initials_tile(tile.peer_id, name, rect.width, rect.height),
                 rect.x, rect.y)
        if tile.role == "camera" and name:
            label = labels.name_label(name, rect.height)
            lw, lh = label.planes.size
            margin = max(4, rect.height // 40) // 2 * 2
            blend(canvas, label, rect.x + margin,
                  max(rect.y, rect.y + rect.height - lh - margin) // 2 * 2)
