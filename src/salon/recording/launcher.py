"""Starting a recorder: THE one place where the control plane meets the media engine.

`start_recorder(spec, recorder=...)` runs `run_recording(spec, control)` (the contract in
`salon.recording.spec`) in a separate process, so encoding never runs on the server's
event loop and a crashing recorder cannot take the server down, and answers a
`RecorderHandle` the scheduler steers (pause, resume, stop) and polls (started, outcome).

The process and its control are `salon.recording.process`'s; this module adds the
non-blocking handle the scheduler polls from its event loop. `recorder` names the `run_recording` to run as `module:function`: by default the real
engine, `salon.recording.engine:run_recording`; tests set `SALON_RECORDER` to a small
recorder of their own (`tests/fake_recorder.py`).
"""

import multiprocessing
import queue
from typing import Any

from salon.recording.process import CONTEXT, ENGINE, ProcessControl, recorder_main
from salon.recording.spec import RecordingOutcome, RecordingSpec


class RecorderHandle:
    """A running recorder as the scheduler sees it."""

    def __init__(self, process: Any, control: ProcessControl,
                 results: "multiprocessing.Queue[RecordingOutcome]") -> None:
        self.process = process
        self.control = control
        self._results = results
        self._outcome: RecordingOutcome | None = None

    def outcome(self) -> RecordingOutcome | None:
        """The outcome once the recorder is done; a recorder that died without one
        (a crash, a kill) is an INTERNAL_ERROR that kept nothing."""
        if self._outcome is None:
            try:
                self._outcome = self._results.get_nowait()
            except queue.Empty:
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
    process (`salon.recording.process`); returns at once."""
    context = multiprocessing.get_context(CONTEXT)
    control = ProcessControl(context)
    results: multiprocessing.Queue[RecordingOutcome] = context.Queue()
    process = context.Process(target=recorder_main,
                              args=(spec, control, results, recorder or ENGINE),
                              name=f"recorder {spec.recording_id}", daemon=False)
    process.start()
    return RecorderHandle(process, control, results)
