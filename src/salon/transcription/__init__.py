"""Transcription as a service of the meeting server (issue 14): the transcriber that
joins live sessions (live captions, and each voice kept for the post-meeting
transcript), the post-meeting jobs that turn what it kept into RealtimeKit's transcript
files and a summary (`jobs.PostMeetingJobs`), and the checks of a meeting's
transcription settings. The speech engine itself is `salon.ai`, which knows nothing of
meetings."""

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
