"""Speech recognition runs at a lower CPU priority than the meeting server."""

import os

#: Speech recognition yields the CPU to the server: on a busy machine the OS runs the
#: server's event loop (media, chat, signalling) first and captions fall behind instead.
NICENESS = 10


def yield_cpu_to_the_server() -> None:
    """Lower this (worker or transcriber) process's priority; called first thing in it."""
    try:
        os.nice(NICENESS)
    except OSError:  # not allowed here: run at the normal priority
        pass
