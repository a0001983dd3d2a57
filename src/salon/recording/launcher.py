"""Starting a recorder: THE one place where the control plane meets the media engine.

`start_recorder(spec, recorder=...)` runs `run_recording(spec, control)` (the contract in
`salon.recording.spec`) in a separate process, so encoding never runs on the server's
event loop and a crashing recorder cannot take the server down, and answers a
`RecorderHandle` the scheduler steers (pause, resume, stop) and polls (started, outcome).

Until the media engineer's `salon.recording.process` merges, the process harness is this
module's own; at integration `start_recorder` becomes a call into that module.
`recorder` names the `run_recording` to run as `module:function`: by default the real
engine, `salon.recording.engine:run_recording`; tests set `SALON_RECORDER` to a small
recorder of their own (`tests/fake_recorder.py`).
"""

import importlib
import multiprocessing
import os
from multiprocessing.connection import Connection
from typing import Any

from salon.recording.spec import RecordingOutcome, RecordingSpec, StopReason

ENGINE = "salon.recording.engine:run_recording"

_STOP_REASONS: tuple[StopReason, ...] = ("API_CALL", "INTERNAL_ERROR", "ALL_PEERS_LEFT",
                                         "MAX_SECONDS")
_CONTEXT = multiprocessing.get_context("spawn")  # never fork a process with an event loop


class ProcessControl:
    """`RecordingControl` across the process boundary (shared events and a number). A
    recorder whose server died is told to stop (INTERNAL_ERROR), so it finalizes what it
    has instead of recording forever."""

    def __init__(self) -> None:
        self._paused = _CONTEXT.Event()
        self._started = _CONTEXT.Event()
        self._stop = _CONTEXT.Value("i", -1)
        self._parent = os.getpid()

    # the recorder's side
    def paused(self) -> bool:
        return self._paused.is_set()

    def stop_requested(self) -> StopReason | None:
        if os.getppid() != self._parent:
            return "INTERNAL_ERROR"
        code = self._stop.value
        return _STOP_REASONS[code] if code >= 0 else None

    def started(self) -> None:
        self._started.set()

    # the control plane's side
    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self, reason: StopReason) -> None:
        if self._stop.value < 0:
            self._stop.value = _STOP_REASONS.index(reason)

    def has_started(self) -> bool:
        return self._started.is_set()


class RecorderHandle:
    """A running recorder as the scheduler sees it."""

    def __init__(self, process: Any, control: ProcessControl, results: Connection) -> None:
        self.process = process
        self.control = control
        self._results = results
        self._outcome: RecordingOutcome | None = None

    def outcome(self) -> RecordingOutcome | None:
        """The outcome once the recorder is done; a recorder that died without one
        (a crash, a kill) is an INTERNAL_ERROR that kept nothing."""
        if self._outcome is None:
            if self._results.poll():
                try:
                    self._outcome = self._results.recv()
                except EOFError:
                    pass
            if self._outcome is None and not self.process.is_alive():
                code = self.process.exitcode
                self._outcome = RecordingOutcome(
                    stop_reason="INTERNAL_ERROR",
                    error=f"the recorder process ended without an outcome (exit code {code})")
        if self._outcome is not None:
            self.process.join(timeout=5)
        return self._outcome

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()


def start_recorder(spec: RecordingSpec, recorder: str = "") -> RecorderHandle:
    """Run `recorder` (`module:function`, default the media engine) on `spec` in a new
    process; returns at once."""
    control = ProcessControl()
    receiving, sending = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_run, args=(recorder or ENGINE, spec, control, sending),
                               name=f"recorder {spec.recording_id}", daemon=False)
    process.start()
    sending.close()
    return RecorderHandle(process, control, receiving)


def _run(path: str, spec: RecordingSpec, control: ProcessControl, results: Connection) -> None:
    """The recorder process: import the recorder, run it, send back its outcome."""
    try:
        module, _, name = path.partition(":")
        run_recording = getattr(importlib.import_module(module), name or "run_recording")
        outcome = run_recording(spec, control)
    except Exception as error:  # reported to the control plane, which marks it ERRORED
        outcome = RecordingOutcome(stop_reason="INTERNAL_ERROR",
                                   error=f"{type(error).__name__}: {error}")
    results.send(outcome)
    results.close()
