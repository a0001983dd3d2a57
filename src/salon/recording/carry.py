"""A recording carried on by another node after its recorder's node died: gathering
what the earlier recorders wrote, and joining it with what comes after into one file.

Each recorder of a recording writes into its node's work directory for it
(`{data_dir}/recordings/work/{recording_id}`, kept in the row's `config["work_dir"]` so
other nodes can find it: the same directory on a shared data directory, or another
node's on the same machine). The node that carries the recording on first moves what is
there into its own work directory, as numbered *parts* (`parts/000/`, `parts/001/`, …,
one per earlier recorder, oldest first): a killed recorder's fragmented work files
repaired into playable ones (`salon.recording.parts.repair`), finished files as they
are, and the parts an earlier carrier had gathered itself. Its own recorder then writes
as any does; at the end each composite or audio file is joined after the same file of
every part (`join`). Track recordings (one file per peer's track) need no join: the
parts' files are listed beside the new ones. An interactive recording's HLS work directory
is packed as it stands (`salon.recording.interactive.salvage`) and the tars are joined
into one playlist (`salon.recording.interactive.join`).

When the earlier work directory cannot be read (another machine, no shared data
directory) nothing is gathered: the recording holds what was recorded after the
failover, and the log says so.
"""

import logging
import shutil
import tarfile
from pathlib import Path

import av

from salon.recording import interactive
from salon.recording.outputs import CONTENT_TYPES, probe
from salon.recording.parts import final_path, join, repair
from salon.recording.spec import OutputFile

log = logging.getLogger("salon.recording")

#: The sub-directory of a work directory that holds the earlier recorders' parts.
PARTS = "parts"


def role_of(path: Path) -> str:
    """A recorded file's role, by its name."""
    if path.suffix in (".m4a", ".mp3"):
        return "audio"
    return "track" if "_peer_audio_" in path.name else "composite"


def gather(earlier: Path | None, here: Path) -> list[Path]:
    """Move what the recorders before this one left in `earlier` into `here/parts/`,
    oldest first; returns every part directory, in order. `earlier` may be `here`
    (a shared data directory, or this node's own earlier process)."""
    root = here / PARTS
    root.mkdir(parents=True, exist_ok=True)
    if earlier is None or not earlier.is_dir():
        log.warning("the work directory %s of this recording's earlier recorder cannot be "
                    "read: the recording holds only what is recorded from now on", earlier)
        return _parts(root)
    if earlier.resolve() != here.resolve():
        for older in _parts(earlier / PARTS):
            shutil.move(str(older), str(_next(root)))
    media = [p for p in sorted(earlier.iterdir()) if p.is_file() and _is_media(p)]
    segmented = [(p, tar) for p in sorted(earlier.iterdir())
                 if p.is_dir() and (tar := interactive.tar_of(p)) is not None]
    if media or segmented:
        part = _next(root)
        part.mkdir()
        for path in media:
            final = final_path(path)
            if final is None:
                shutil.move(str(path), str(part / path.name))
            elif not (earlier / final.name).exists():
                if repair(path, part / final.name) is not None:
                    path.unlink()
                else:
                    log.warning("the work file %s holds nothing playable: left out", path)
            else:
                path.unlink()  # its finished file is there already
        for directory, tar in segmented:  # an interactive recording's HLS, as far as it got
            if (part / tar.name).exists():
                shutil.rmtree(directory)  # packed already
            elif interactive.salvage(directory, part / tar.name) is None:
                log.warning("the work directory %s holds no segment: left out", directory)
    return _parts(root)


def joined(files: list[OutputFile], parts: list[Path]) -> list[OutputFile]:
    """The recorder's `files`, each composite or audio file joined after the same file
    of every earlier part; files only earlier parts have are kept too (joined among
    themselves: the recorder after the failover may have written nothing, paused)."""
    if not parts:
        return list(files)
    latest = {file.path.name: file for file in files}
    names = list(latest)
    for part in parts:
        names += [p.name for p in sorted(part.iterdir())
                  if p.suffix in CONTENT_TYPES and p.name not in names]
    out = []
    for name in names:
        earlier = [part / name for part in parts if (part / name).exists()]
        current = latest.get(name)
        role = current.role if current is not None else role_of(Path(name))
        if role == "track":
            out += [current] if current is not None else []
            out += [probe(path, "track") for path in earlier]
            continue
        target = current.path if current is not None else parts[-1].parent.parent / name
        sources = earlier + ([current.path] if current is not None else [])
        try:
            if len(sources) > 1:
                (interactive.join if target.suffix == ".tar" else join)(sources, target)
            elif current is None:
                shutil.copyfile(sources[0], target)
            out.append(probe(target, role, current.participant_id if current else None,
                             current.peer_id if current else None))
        except (av.error.FFmpegError, OSError, ValueError, KeyError, tarfile.TarError):
            log.exception("joining the parts of %s failed; keeping the latest part", name)
            if current is not None:
                out.append(current)
    return out


def left_behind(earlier: Path | None, here: Path) -> list[OutputFile]:
    """What every recorder of a recording that cannot go on left, joined: the files of
    a recording that ends ERRORED with its node."""
    return joined([], gather(earlier, here))


def _is_media(path: Path) -> bool:
    final = final_path(path)
    return (final or path).suffix in CONTENT_TYPES


def parts_of(here: Path) -> list[Path]:
    """The part directories gathered into the work directory `here`, oldest first."""
    return _parts(here / PARTS)


def _parts(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _next(root: Path) -> Path:
    return root / f"{len(_parts(root)):03d}"
