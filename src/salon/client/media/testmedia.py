"""Pre-encoded test media for `FileSource`: made locally with PyAV, once, then cached
(about 15 s of one core for the whole set; docs/client.md).

    from salon.client.media.testmedia import make_test_media
    files = make_test_media(Path("/tmp/salon-media"))
    files["vp8"], files["h264"], files["opus"], files["speech"]

- `vp8`: `video.ivf`, VP8 640x480 at 30 fps, ~500 kbps, a keyframe every second
  (FFmpeg's `testsrc2` pattern through PyAV's lavfi);
- `h264`: `video.h264`, the same picture as H.264 constrained baseline (Annex B byte stream,
  `packetization-mode=1` friendly: no B-frames), a keyframe (IDR with SPS/PPS) every second;
- `vp8_l1t3`: `video-l1t3.ivf`, VP8 640x480 at 30 fps with three temporal layers
  (L1T3: frame n is in layer (0, 2, 1, 2)[n % 4]; TL0 7.5 fps, TL0+1 15 fps, all 30 fps),
  a keyframe every 2 s (a multiple of the pattern, so keyframes are TL0);
- `vp8_l1t2`: `video-l1t2.ivf`, VP8 480x360 at 30 fps with two temporal layers (L1T2:
  (0, 1)[n % 2]; TL0 15 fps, ~170 kbit/s; both 30 fps, ~280 kbit/s), a keyframe every
  2 s. Both layered files are encoded error-resilient with libvpx's own layer patterns:
  a frame never depends on a higher layer's frame nor on its entropy state, so a
  decoder given the lower layers only decodes the very same pictures
  (tests/test_media_layers_source.py checks this by decoding);
- `make_simulcast_media(directory)` writes a simulcast set (see `SIMULCAST`): the same
  picture as VP8 at 160x120 (~110 kbit/s), 320x240 (~200 kbit/s) and 640x480
  (~300 kbit/s), 30 fps, each L1T2 like `vp8_l1t2`, keyframes at the same frame indices
  (every 2 s), for `SimulcastSource` (encodings `q`, `h`, `f`, low to high);
- `opus`: `audio.ogg`, Opus in Ogg, 48 kHz mono, 20 ms packets, ~32 kbps: 1 s of a 440 Hz
  tone, 1 s of silence, alternating;
- `speech`: `speech4.ogg`, the same format: 1 s of a speech-like warbling tone every 4 s,
  silence in between (for active-speaker tests).

Nothing is downloaded. The files are cached per directory: a second call with the same
directory and parameters returns the existing files at once.
"""

import json
import math
import os
from array import array
from fractions import Fraction
from pathlib import Path

import av

WIDTH, HEIGHT, FPS = 640, 480, 30
VIDEO_BITRATE = 500_000
AUDIO_RATE = 48_000
AUDIO_FRAME = 960  # 20 ms at 48 kHz
AUDIO_BITRATE = 32_000
FORMAT_VERSION = 5  # bump when the files change, so caches are rebuilt
#: The layered files: the layer of frame n, and their keyframe interval (frames).
L1T3_PATTERN = (0, 2, 1, 2)
L1T2_PATTERN = (0, 1)
LAYERED_KEYINT = 60
#: libvpx's temporal-layer settings per pattern: (ts-parameters, target bits/s, size).
_LAYERED = {
    L1T3_PATTERN: ("ts_number_layers=3:ts_target_bitrate=120,180,240:"
                   "ts_rate_decimator=4,2,1:ts_periodicity=4:ts_layer_id=0,2,1,2:"
                   "ts_layering_mode=3", 240_000, (WIDTH, HEIGHT)),
    L1T2_PATTERN: ("ts_number_layers=2:ts_target_bitrate=130,220:ts_rate_decimator=2,1:"
                   "ts_periodicity=2:ts_layer_id=0,1:ts_layering_mode=2", 220_000,
                   (480, 360)),
}

#: The simulcast set, low to high: RID -> (file name, libvpx settings as in `_LAYERED`).
#: The low encoding fits a 300 kbit/s link with a meeting's audio beside it; the high one
#: is VGA at ~300 kbit/s (the rate of `vp8_l1t2`, which the network benchmark sent before:
#: five of them and their audio fit salon's 2.5 Mbit/s cap on a subscriber's estimate).
#: Each is L1T2, so an SFU can also halve any encoding's frame rate.
SIMULCAST: dict[str, tuple[str, tuple[str, int, tuple[int, int]]]] = {
    rid: (f"simulcast-{rid}.ivf",
          (f"ts_number_layers=2:ts_target_bitrate={tl0},{kbps}:ts_rate_decimator=2,1:"
           "ts_periodicity=2:ts_layer_id=0,1:ts_layering_mode=2", kbps * 1000, size))
    for rid, tl0, kbps, size in (("q", 70, 110, (160, 120)), ("h", 120, 200, (320, 240)),
                                 ("f", 180, 300, (WIDTH, HEIGHT)))}
#: Bump when the simulcast files change (their cache is stamped apart).
SIMULCAST_VERSION = 2
SIMULCAST_PATTERN = L1T2_PATTERN

FILES = {"vp8": "video.ivf", "h264": "video.h264", "opus": "audio.ogg",
         "speech": "speech4.ogg", "vp8_l1t3": "video-l1t3.ivf",
         "vp8_l1t2": "video-l1t2.ivf"}


def make_test_media(directory: Path | str, seconds: int = 10) -> dict[str, Path]:
    """Write the test files into `directory` (created if needed) unless they are there
    already; return {"vp8", "h264", "opus", "speech", "vp8_l1t3", "vp8_l1t2"} -> path. `seconds` is each file's
    length (a whole number of seconds, at least 2; sources loop them)."""
    if seconds < 2:
        raise ValueError("seconds must be at least 2")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {key: directory / name for key, name in FILES.items()}
    stamp = directory / "salon-test-media.json"
    if _cached(stamp, paths, seconds):
        return paths
    _write_video(paths["vp8"], "libvpx", "ivf", seconds)
    _write_video(paths["h264"], "libx264", "h264", seconds)
    _write_video(paths["vp8_l1t3"], "libvpx", "ivf", seconds, L1T3_PATTERN)
    _write_video(paths["vp8_l1t2"], "libvpx", "ivf", seconds, L1T2_PATTERN)
    _write_opus(paths["opus"], seconds, _tone_then_silence)
    _write_opus(paths["speech"], seconds, _speech_every_4s)
    _stamp(stamp, paths, seconds)
    return paths


def make_simulcast_media(directory: Path | str, seconds: int = 10) -> dict[str, Path]:
    """Write the simulcast set into `directory` unless it is there already; return
    {"q", "h", "f"} -> path, low to high (the RIDs `SimulcastSource` sends them as).
    Cached apart from `make_test_media`'s files (under 1 s of encoding per second of
    clip; docs/client.md), so tests that need no simulcast do not pay for it."""
    if seconds < 2 or seconds % 2:
        raise ValueError("seconds must be an even number, at least 2 (keyframes 2 s apart)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {rid: directory / name for rid, (name, _) in SIMULCAST.items()}
    stamp = directory / "salon-simulcast-media.json"
    if _cached(stamp, paths, seconds, SIMULCAST_VERSION):
        return paths
    for rid, (_, settings) in SIMULCAST.items():
        _write_video(paths[rid], "libvpx", "ivf", seconds, SIMULCAST_PATTERN,
                     settings=settings)
    _stamp(stamp, paths, seconds, SIMULCAST_VERSION)
    return paths


def _cached(stamp: Path, paths: dict[str, Path], seconds: int,
            version: int = FORMAT_VERSION) -> bool:
    """The files of `paths` are there, as the stamp written with them describes."""
    try:
        cached = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return (cached.get("version") == version and cached.get("seconds") == seconds
            and all(p.exists() and p.stat().st_size == cached["sizes"].get(k)
                    for k, p in paths.items()))


def _stamp(stamp: Path, paths: dict[str, Path], seconds: int,
           version: int = FORMAT_VERSION) -> None:
    sizes = {k: p.stat().st_size for k, p in paths.items()}
    _atomic_write(stamp, json.dumps({"version": version, "seconds": seconds,
                                     "sizes": sizes}).encode())


def _temporary(path: Path) -> Path:
    """A private name next to `path`: concurrent writers never share a file."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = _temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_video(path: Path, codec: str, container_format: str, seconds: int,
                 pattern: tuple[int, ...] | None = None, *,
                 settings: tuple[str, int, tuple[int, int]] | None = None) -> None:
    """`settings` (ts-parameters, bits/s, size) overrides the pattern's `_LAYERED` entry."""
    tmp = _temporary(path)
    layered = settings or (_LAYERED.get(pattern) if pattern is not None else None)
    width, height = layered[2] if layered else (WIDTH, HEIGHT)
    source = av.open(f"testsrc2=size={width}x{height}:rate={FPS}:duration={seconds}",
                     format="lavfi")
    try:
        with av.open(str(tmp), "w", format=container_format) as out:
            keyint = LAYERED_KEYINT if layered else FPS
            if codec == "libvpx":
                options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0",
                           "auto-alt-ref": "0", "keyint_min": str(keyint)}
                if layered:  # libvpx's own layer pattern, as WebRTC's
                    options["error-resilient"] = "default"
                    options["ts-parameters"] = layered[0]
            else:  # constrained baseline, no B-frames, IDR (with SPS/PPS) every second
                options = {"preset": "ultrafast", "tune": "zerolatency",
                           "profile": "baseline", "x264-params":
                           f"keyint={FPS}:min-keyint={FPS}:scenecut=0:repeat-headers=1"}
            stream = out.add_stream(codec, rate=FPS, options=options)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.bit_rate = layered[1] if layered else VIDEO_BITRATE
            stream.codec_context.gop_size = keyint
            stream.codec_context.time_base = Fraction(1, FPS)
            for index, frame in enumerate(source.decode(video=0)):
                frame.pts, frame.time_base = index, Fraction(1, FPS)
                # a forced keyframe on each second, whatever the encoder decides
                frame.pict_type = (av.video.frame.PictureType.I if index % keyint == 0
                                   else av.video.frame.PictureType.NONE)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
    finally:
        source.close()
    os.replace(tmp, path)


def _tone_then_silence(t: float) -> tuple[float, float]:
    """(frequency, amplitude) at `t` seconds: 1 s of 440 Hz, 1 s of silence."""
    return (440.0, 0.3) if int(t) % 2 == 0 else (0.0, 0.0)


def _speech_every_4s(t: float) -> tuple[float, float]:
    """1 s of a warbling, syllable-like tone every 4 s (a crude stand-in for speech)."""
    if int(t) % 4 != 0:
        return 0.0, 0.0
    phase = t - int(t)
    frequency = 180.0 + 60.0 * math.sin(2 * math.pi * 3 * phase)
    amplitude = 0.35 * (0.55 + 0.45 * math.sin(2 * math.pi * 4 * phase) ** 2)
    return frequency, amplitude


def _write_opus(path: Path, seconds: int, shape) -> None:
    tmp = _temporary(path)
    with av.open(str(tmp), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=AUDIO_RATE,
                                options={"frame_duration": "20", "application": "audio"})
        stream.layout = "mono"
        stream.format = "s16"
        stream.bit_rate = AUDIO_BITRATE
        phase = 0.0
        total = seconds * AUDIO_RATE // AUDIO_FRAME
        for index in range(total):
            samples = array("h", bytes(2 * AUDIO_FRAME))
            start = index * AUDIO_FRAME
            for i in range(AUDIO_FRAME):
                frequency, amplitude = shape((start + i) / AUDIO_RATE)
                phase += 2 * math.pi * frequency / AUDIO_RATE
                samples[i] = int(32767 * amplitude * math.sin(phase))
            phase %= 2 * math.pi
            frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_FRAME)
            frame.planes[0].update(samples.tobytes())
            frame.sample_rate = AUDIO_RATE
            frame.pts, frame.time_base = start, Fraction(1, AUDIO_RATE)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    os.replace(tmp, path)
