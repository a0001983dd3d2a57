"""What the compositor draws itself: name labels, initials tiles for cameras that are
off, and the watermark. PyAV's FFmpeg has no `drawtext` (no freetype), so Pillow renders
them once into yuv420p planes plus an alpha mask, and the compositor blends those small
patches onto each frame (cheap: a label is a few thousand pixels).
"""

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

#: Tile backgrounds for initials: muted colours that white text reads well on.
PALETTE = [(0x3b, 0x5b, 0xa5), (0x8e, 0x44, 0xad), (0x16, 0xa0, 0x85), (0xc0, 0x39, 0x2b),
           (0xd3, 0x54, 0x00), (0x27, 0xae, 0x60), (0x2c, 0x3e, 0x50), (0xb7, 0x95, 0x0b)]
LABEL_BACKGROUND = (0, 0, 0, 150)


@dataclass(frozen=True)
class Planes:
    """A picture as yuv420p planes (uint8): y is h×w, u and v are h/2×w/2."""
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.y.shape[1], self.y.shape[0]


@dataclass(frozen=True)
class Overlay:
    """A patch to blend: its planes and alpha (0..255) at luma and chroma resolution."""
    planes: Planes
    alpha: np.ndarray
    alpha_chroma: np.ndarray


def planes_of(frame: av.VideoFrame) -> Planes:
    """Views of a yuv420p frame's three planes (no copy, writable: the arrays keep the
    frame's buffers alive; the line padding is sliced off)."""
    y, u, v = frame.planes
    return Planes(*(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
                    for p in (y, u, v)))


def image_planes(image: Image.Image) -> Planes:
    """An RGB Pillow image (even size) as yuv420p planes, converted by swscale."""
    return planes_of(av.VideoFrame.from_image(image.convert("RGB")).reformat(format="yuv420p"))


def overlay_of(image: Image.Image) -> Overlay:
    """An RGBA Pillow image as a blendable overlay (its size rounded down to even)."""
    w, h = image.width // 2 * 2, image.height // 2 * 2
    image = image.crop((0, 0, max(w, 2), max(h, 2)))
    alpha = np.asarray(image.getchannel("A"), dtype=np.uint16)
    chroma = ((alpha[0::2, 0::2] + alpha[1::2, 0::2] + alpha[0::2, 1::2]
               + alpha[1::2, 1::2]) // 4)
    return Overlay(image_planes(image), alpha, chroma)


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (FreeType ships in Pillow's wheels; no system font needed)."""
    return ImageFont.load_default(size=size)


def colour_of(key: str) -> tuple[int, int, int]:
    """A stable background colour per participant (the same in every recording)."""
    return PALETTE[hashlib.sha1(key.encode()).digest()[0] % len(PALETTE)]


def initials(name: str) -> str:
    """"Ada Lovelace" → "AL"; "ada" → "A"; an empty name → "?"."""
    words = [w for w in name.replace("_", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


@lru_cache(maxsize=64)
def initials_tile(key: str, name: str, width: int, height: int) -> Planes:
    """A `width`×`height` tile for a camera that is off: the initials on a colour."""
    image = Image.new("RGB", (width, height), colour_of(key))
    draw = ImageDraw.Draw(image)
    face = font(max(12, min(width, height) // 3))
    draw.text((width / 2, height / 2), initials(name), fill="white", font=face, anchor="mm")
    return image_planes(image)


@lru_cache(maxsize=64)
def name_label(name: str, tile_height: int) -> Overlay:
    """The name, white on a translucent dark box, sized for a tile of `tile_height`."""
    size = max(10, min(24, tile_height // 12))
    face = font(size)
    text = name if len(name) <= 40 else name[:39] + "…"
    left, top, right, bottom = face.getbbox(text)
    pad = max(3, size // 3)
    image = Image.new("RGBA", (right - left + 2 * pad + 1, bottom - top + 2 * pad + 1),
                      LABEL_BACKGROUND)
    ImageDraw.Draw(image).text((pad - left, pad - top), text, fill="white", font=face)
    return overlay_of(image)


def watermark(path: Path, size: tuple[int, int] | None,
              canvas: tuple[int, int]) -> Overlay:
    """The watermark image at `size` (or its own size, at most a quarter of the canvas
    width), keeping its transparency."""
    image = Image.open(path).convert("RGBA")
    if size is not None:
        image = image.resize(size)
    elif image.width > canvas[0] // 4:
        ratio = canvas[0] / 4 / image.width
        image = image.resize((max(2, int(image.width * ratio)), max(2, int(image.height * ratio))))
    return overlay_of(image)


def corner(position: str, patch: tuple[int, int], canvas: tuple[int, int],
           margin: int = 16) -> tuple[int, int]:
    """Where a patch of `patch` size goes for "left top", "right bottom", …"""
    horizontal, vertical = position.split()
    x = margin if horizontal == "left" else canvas[0] - patch[0] - margin
    y = margin if vertical == "top" else canvas[1] - patch[1] - margin
    return max(0, x) // 2 * 2, max(0, y) // 2 * 2
