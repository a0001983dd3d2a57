"""Tracebacks from the media path, at most one per `every_secs`: a failure on every
packet or every report would be hundreds of log lines a second."""

import logging
import time


class ThrottledFailures:
    """Call `log()` in an `except` block: the first failure of a stretch logs its
    traceback with how many were kept quiet since the last one logged."""

    def __init__(self, logger: logging.Logger, what: str, every_secs: float = 10.0) -> None:
        self.logger = logger
        self.what = what
        self.every_secs = every_secs
        self._last = float("-inf")
        self._quiet = 0

    def log(self) -> None:
        now = time.monotonic()
        if now - self._last < self.every_secs:
            self._quiet += 1
            return
        self.logger.exception("%s (%d more since the last report)", self.what, self._quiet)
        self._last, self._quiet = now, 0
