"""Killing a node as its machine dies: the node and every process it started."""

import os
import signal
from pathlib import Path


def children_of(pid: int) -> list[int]:
    """Every descendant of `pid` (the recorder, multiprocessing's helpers)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found + [grandchild for child in found for grandchild in children_of(child)]


def kill_machine(pid: int) -> None:
    """SIGKILL to the node and everything it started, the recorder first (else it sees
    its parent die and finalizes its file, which is the gentler case)."""
    for child in reversed(children_of(pid)):
        os.kill(child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
