"""Log lines: one JSON object per event under systemd, readable text on a terminal."""

from __future__ import annotations

import io
import logging
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
import pytest

from daemon.logs import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    default_format,
    event_fields,
    stderr_is_journal,
    syslog_priority,
)

if TYPE_CHECKING:
    from pathlib import Path

CREATED = datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC).timestamp()


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("tradingd.test", logging.WARNING, __file__, 1, message, args, None)
    entry.created = CREATED
    entry.msecs = 123.0
    entry.__dict__.update(extra)
    return entry


def test_json_line_has_time_level_logger_event_and_the_fields() -> None:
    """The message is the event; `extra` fields ride along, Decimals as strings."""
    line = JsonFormatter().format(
        record("halt requested (flatten=%s)", True, flatten=True, qty=Decimal("1.5"))
    )
    assert msgspec.json.decode(line) == {
        "time": "2026-11-23T10:00:00.123Z",
        "level": "warning",
        "logger": "tradingd.test",
        "event": "halt requested (flatten=True)",
        "flatten": True,
        "qty": "1.5",
    }


def test_json_keeps_one_line_per_event_with_a_multiline_message_and_a_traceback() -> None:
    """Newlines inside the event and the exception are escaped, never split the line."""
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        entry = record("first\nsecond")
        entry.exc_info = sys.exc_info()
    line = JsonFormatter().format(entry)
    assert "\n" not in line
    decoded = msgspec.json.decode(line)
    assert decoded["event"] == "first\nsecond"
    assert "ValueError: bad\nthing" in decoded["exception"]


def test_a_field_never_overwrites_the_core_keys() -> None:
    """An `extra` named like a core key is dropped rather than hiding the event."""
    decoded = msgspec.json.decode(JsonFormatter().format(record("real", event="fake")))
    assert decoded["event"] == "real"


def test_text_line_is_utc_with_fields_as_key_value() -> None:
    """The terminal format: UTC time, level, logger, message, then key=value."""
    line = TextFormatter().format(record("ready", sources=["stdin"]))
    assert line == "2026-11-23T10:00:00.123Z WARNING tradingd.test ready sources=['stdin']"


def test_only_extra_attributes_count_as_fields() -> None:
    """A bare record has no fields."""
    assert event_fields(record("plain %s", 1)) == {}


@pytest.mark.parametrize(
    ("environ", "on_terminal", "expected"),
    [
        ({}, False, "text"),
        ({"INVOCATION_ID": "0f3c"}, False, "json"),
        ({"JOURNAL_STREAM": "8:12345"}, False, "json"),
        ({"TERM": "xterm"}, False, "text"),
        ({"INVOCATION_ID": "0f3c"}, True, "text"),
    ],
)
def test_json_is_the_default_under_systemd(
    environ: dict[str, str], on_terminal: bool, expected: str
) -> None:
    """systemd sets INVOCATION_ID (and JOURNAL_STREAM when stderr goes to the journal); a
    terminal gets text whatever its shell inherited."""
    assert default_format(environ, on_terminal=on_terminal) == expected


@pytest.mark.parametrize(
    ("level", "priority"),
    [(logging.DEBUG, 7), (logging.INFO, 6), (logging.WARNING, 4), (logging.ERROR, 3), (50, 2)],
)
def test_levels_map_to_syslog_priorities(level: int, priority: int) -> None:
    """journald's PRIORITY for each Python level."""
    assert syslog_priority(level) == priority


def test_stderr_is_the_journal_only_when_journal_stream_names_it(tmp_path: Path) -> None:
    """JOURNAL_STREAM is device:inode of the stream; another file or garbage is not it."""
    with (tmp_path / "stream").open("w") as stream, (tmp_path / "other").open("w") as other:
        info = os.fstat(stream.fileno())
        environ = {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}
        assert stderr_is_journal(environ, stream.fileno())
        assert not stderr_is_journal(environ, other.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": "garbage"}, stream.fileno())
        assert not stderr_is_journal({}, stream.fileno())


def test_journal_lines_carry_the_priority_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """`<4>` then the JSON object: journald strips the prefix and keeps the priority."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    try:
        configure_logging("INFO", "json", journal_priority=True)
        logging.getLogger("tradingd.test").warning("careful", extra={"symbol": "AAPL"})
        logging.getLogger("tradingd.test").debug("below the level")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    [line] = stderr.getvalue().splitlines()
    assert line.startswith("<4>{")
    assert msgspec.json.decode(line[3:])["symbol"] == "AAPL"
