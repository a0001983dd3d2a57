"""Running a recording in a process of its own, steered from the control plane.

A recorder decodes and encodes video: it must never share an event loop (or a GIL)
with the server. The parent starts it and steers it:

    recorder = RecorderProcess.start(spec)        # a spawned process (no forked state)
    recorder.wait_started(timeout=10)             # True once the first frame is muxed
    recorder.control.pause(); recorder.control.resume()
    recorder.control.stop("API_CALL")
    outcome = recorder.outcome(timeout=30)        # RecordingOutcome

`ProcessControl` is the `RecordingControl` the engine polls in the child (`paused`,
`stop_requested`, `started`) and the handle the parent steers with (`pause`, `resume`,
`stop`, `is_started`). It is built on multiprocessing primitives of one context, so it
pickles into the spawned child.
"""

import importlib
import importlib.util
import multiprocessing
import multiprocessing.context
import os
import queue
import sys
import time
from typing import get_args

from salon.observability.logs import configure_from_env
from salon.recording.spec import RecordingOutcome, RecordingSpec, StopReason

#: Spawned, never forked: the parent is an asyncio server with threads and sockets.
CONTEXT = "spawn"
#: The recorder a process runs unless told otherwise (`module:function`).
ENGINE = "salon.recording.engine:run_recording"
_REASONS: tuple[str, ...] = get_args(StopReason)


class ProcessControl:
    """Pause, resume and stop across the process boundary (shared memory flags)."""

    def __init__(self, context: multiprocessing.context.BaseContext | None = None) -> None:
        context = context or multiprocessing.get_context(CONTEXT)
        self._paused = context.Event()
        self._started = context.Event()
        self._stop = context.Value("i", -1)  # index in StopReason's values; -1: running
        self._parent = os.getpid()

    # --- the parent's side -----------------------------------------------------------------

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self, reason: StopReason = "API_CALL") -> None:
        """Ask the recorder to finish (the first reason given wins)."""
        with self._stop.get_lock():
            if self._stop.value < 0:
                self._stop.value = _REASONS.index(reason)

    def is_started(self) -> bool:
        return self._started.is_set()

    def wait_started(self, timeout: float | None = None) -> bool:
        return self._started.wait(timeout)

    # --- the recorder's side (RecordingControl) ---------------------------------------------

    def paused(self) -> bool:
        return self._paused.is_set()

    def stop_requested(self) -> StopReason | None:
        if os.getpid() != self._parent and os.getppid() != self._parent:
            return "INTERNAL_ERROR"  # the server died: finalize what there is and end
        value = self._stop.value
        return None if value < 0 else _REASONS[value]  # type: ignore[return-value]

    def started(self) -> None:
        self._started.set()


def spawn_children_lightly() -> None:
    """Keep spawned children from running the server's main script again.

    A spawned child first re-creates the parent's `__main__`: a module run with
    `python -m salon` is skipped (multiprocessing never re-runs a package's `__main__`),
    but the `salon` console script is a file, run again as `__mp_main__` — and its one
    import is `salon.cli`, the whole server: about a second (measured 1.0-1.7 s on a
    busy 2-core machine, against 0.1 s) before each recorder, transcriber or encoder
    starts its work. Naming the script's module `salon.__main__`, which is what it runs,
    makes the children skip it as they skip `python -m salon`'s."""
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None:
        main.__spec__ = importlib.util.find_spec("salon.__main__")


def recorder_main(spec: RecordingSpec, control: ProcessControl,
                  results: "multiprocessing.Queue[RecordingOutcome]",
                  recorder: str = ENGINE) -> None:
    """The child's entry point (importable, so spawn can find it): record with
    `recorder` (`module:function`, imported in the child only), then hand the outcome
    back. Whatever goes wrong still produces an outcome."""
    try:
        configure_from_env()  # the server's log format, masking included
        module, _, name = recorder.partition(":")
        run_recording = getattr(importlib.import_module(module), name or "run_recording")
        outcome = run_recording(spec, control)
    except BaseException as exc:  # noqa: BLE001 - the parent must always hear back
        outcome = RecordingOutcome(stop_reason="INTERNAL_ERROR",
                                   error=f"{type(exc).__name__}: {exc}")
    results.put(outcome)


class RecorderProcess:
    """One recording in its own process."""

    def __init__(self, spec: RecordingSpec,
                 context: multiprocessing.context.BaseContext | None = None,
                 recorder: str = ENGINE) -> None:
        self.context = context or multiprocessing.get_context(CONTEXT)
        self.spec = spec
        self.control = ProcessControl(self.context)
        self._results: multiprocessing.Queue[RecordingOutcome] = self.context.Queue()
        self.process = self.context.Process(
            target=recorder_main, args=(spec, self.control, self._results, recorder),
            name=f"recorder-{spec.recording_id}", daemon=False)
        self._outcome: RecordingOutcome | None = None

    @classmethod
    def start(cls, spec: RecordingSpec, recorder: str = ENGINE) -> "RecorderProcess":
        """Run `recorder` (`module:function`; tests name their own) on `spec`; returns
        at once."""
        started = cls(spec, recorder=recorder)
        started.process.start()
        return started

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def wait_started(self, timeout: float | None = None) -> bool:
        return self.control.wait_started(timeout)

    def poll(self, wait: float = 0.0) -> RecordingOutcome | None:
        """The outcome if the recorder has finished, else None (without blocking when
        `wait` is 0: the scheduler polls from its event loop). A recorder that died
        without one yields INTERNAL_ERROR."""
        if self._outcome is None:
            alive = self.process.is_alive()
            try:
                self._outcome = self._results.get(timeout=wait) if wait else \
                    self._results.get_nowait()
            except queue.Empty:
                if not alive:  # it died without a word (killed, out of memory)
                    self._outcome = RecordingOutcome(
                        stop_reason="INTERNAL_ERROR",
                        error=f"the recorder exited with code {self.process.exitcode}")
            if self._outcome is not None:
                # Reaped if it has exited, without waiting on its teardown from the event
                # loop (a busy machine's recorder can take seconds to exit after its last
                # word, and the whole node would stall meanwhile); an unreaped one is
                # reaped by multiprocessing later, at the latest when the node exits.
                self.process.join(timeout=wait)
        return self._outcome

    def outcome(self, timeout: float | None = None) -> RecordingOutcome:
        """The outcome once the recorder finished (blocking; run it in a thread from
        async code)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (outcome := self.poll(wait=0.2)) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"recording {self.spec.recording_id} still running")
        return outcome

    def kill(self) -> None:
        """The last resort: the files of a killed recorder are not finalized."""
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
