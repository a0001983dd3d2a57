"""Log lines: readable text by default, one JSON object per line with
`SALON_LOG_FORMAT=json`; secrets masked in both (salon.observability.redact).

Every line carries what it is about, where known (salon.observability.context): the
request id, app, meeting, session and peer. `configure` gives the root logger one
handler on stderr; uvicorn's loggers propagate to it, so its lines are formatted and
masked the same way.
"""

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from salon.observability import context
from salon.observability.redact import redact

#: Libraries that say too much at INFO (httpx a line per webhook request, aioice per
#: candidate pair, alembic per start): WARNING and up, unless the level is DEBUG.
CHATTY = ("httpx", "httpcore", "aioice", "aiortc", "alembic")

#: Attributes a record may carry through `extra=` that JSON lines keep as fields
#: (the access log's), beside the standard ones.
EXTRA_FIELDS = ("method", "route", "path", "status", "duration_ms", "event")


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", <context>, <extra fields>, "exc"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        line.update(context.current())
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`2026-12-05 15:20:00,123 INFO salon.realtime peer joined [meeting_id=… peer_id=…]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = context.current()
        if fields:
            head, newline, tail = text.partition("\n")  # the context goes on the first line
            text = (head + " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
                    + newline + tail)
        return redact(text)


def configure(log_format: str = "text", level: str = "info") -> None:
    """One handler on the root logger, in the chosen format, at `level`; uvicorn's own
    handlers are left out (`log_config=None` in `salon serve`) and its loggers propagate."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Python's warnings (a library's DeprecationWarning) as log lines too, not raw text
    # on stderr between the JSON lines.
    logging.captureWarnings(True)
    for name in CHATTY:
        logging.getLogger(name).setLevel(level.upper() if level.lower() == "debug"
                                         else logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


def configure_from_env() -> None:
    """`configure` in a worker process (recorder, transcriber, transcription worker):
    spawned children start with Python's defaults, and `SALON_LOG_FORMAT` and
    `SALON_LOG_LEVEL` reach them in the environment they inherit."""
    log_format = os.environ.get("SALON_LOG_FORMAT", "text").strip().lower()
    level = os.environ.get("SALON_LOG_LEVEL", "info").strip().lower() or "info"
    if level not in ("debug", "info", "warning", "error", "critical"):
        level = "info"
    configure("json" if log_format == "json" else "text", level)
