"""Logs: one line per event on stderr (journald keeps them), UTC timestamps.

Two formats. ``json``, the default under systemd (``JOURNAL_STREAM`` or ``INVOCATION_ID``
set), writes one JSON object per line: ``time``, ``level``, ``logger``, ``event`` (the
message), the event's fields (passed as ``extra={...}``) and ``exception`` when there is
one. ``text``, the default on a terminal, writes the same as one readable line with the
fields as ``key=value``. When stderr is the journal itself (``JOURNAL_STREAM`` names it),
each line starts with a ``<N>`` syslog priority, which journald strips and keeps as the
entry's PRIORITY, so ``journalctl -p warning`` works and ``-o cat`` shows the bare line.
Secrets never reach a log call: credentials are ``Secret``s whose
``repr`` is a mask, and nothing logs a request body or a token.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

# Every attribute a bare LogRecord has: anything else on a record came in through `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


# Python's levels as syslog priorities (sd-daemon(3) prefixes).
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def syslog_priority(level: int) -> int:
    return next((priority for floor, priority in _PRIORITIES if level >= floor), 7)


def stderr_is_journal(environ: Mapping[str, str], stderr_fd: int = 2) -> bool:
    """Whether ``stderr_fd`` is the stream systemd connected to journald (``JOURNAL_STREAM``
    is ``device:inode`` of it; a redirected stderr no longer matches)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        stat = os.fstat(stderr_fd)
        return (stat.st_dev, stat.st_ino) == (int(device), int(inode))
    except (OSError, ValueError):
        return False


class _PriorityPrefix(logging.Formatter):
    """Wraps a formatter: ``<N>`` before each line for journald."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return f"<{syslog_priority(record.levelno)}>{self._inner.format(record)}"


def default_format(environ: Mapping[str, str], *, on_terminal: bool = False) -> LogFormat:
    """JSON when systemd runs us (its journal wants one structured line per event); text on
    a terminal, even one whose shell inherited systemd's variables from a desktop session."""
    if on_terminal:
        return "text"
    return "json" if environ.get("JOURNAL_STREAM") or environ.get("INVOCATION_ID") else "text"


def event_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a log call passed with ``extra``."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}


def _utc(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    _encoder = msgspec.json.Encoder(enc_hook=str)  # Decimal, datetime, enums, exceptions...

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in event_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry).decode()


class TextFormatter(logging.Formatter):
    """``2026-11-23T10:00:00.123Z INFO tradingd message key=value``."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S"
        )

    def converter(self, timestamp: float | None) -> time.struct_time:
        return time.gmtime(timestamp)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        return line + "".join(f" {key}={value}" for key, value in event_fields(record).items())


def configure_logging(
    level: str = "INFO", log_format: LogFormat = "text", *, journal_priority: bool = False
) -> None:
    """Route every log record to stderr in ``log_format``; ``journal_priority`` adds the
    ``<N>`` prefix (only when stderr is the journal: see ``stderr_is_journal``)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    handler.setFormatter(_PriorityPrefix(formatter) if journal_priority else formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries speak at WARNING and above only: their INFO lines are noise in a service log.
    for noisy in ("httpx", "httpcore", "websockets", "hypercorn"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
