"""Pure parts of the control socket: socket activation's environment, paths, request
parsing and table rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from daemon.control.client import render_status, render_table
from daemon.control.server import ControlReply, ControlRequest, is_control_line, parse_request
from daemon.listeners import activated_fds, default_socket_path


def test_activated_fds_are_three_onwards_for_this_pid_only() -> None:
    """LISTEN_FDS counts descriptors from 3, and only for the process LISTEN_PID names."""
    assert activated_fds({"LISTEN_PID": "42", "LISTEN_FDS": "2"}, 42) == [3, 4]
    assert activated_fds({"LISTEN_PID": "41", "LISTEN_FDS": "2"}, 42) == []
    assert activated_fds({"LISTEN_PID": "42", "LISTEN_FDS": "x"}, 42) == []
    assert activated_fds({}, 42) == []


def test_default_socket_path_prefers_systemds_runtime_directory() -> None:
    """RUNTIME_DIRECTORY first (its first entry), then XDG_RUNTIME_DIR, then a per-user tmp dir."""
    assert default_socket_path({"RUNTIME_DIRECTORY": "/run/a:/run/b"}) == "/run/a/tradingd.sock"
    assert (
        default_socket_path({"XDG_RUNTIME_DIR": "/run/user/7"})
        == "/run/user/7/tradingd/tradingd.sock"
    )
    assert default_socket_path({}).endswith("/tradingd.sock")


def test_only_a_control_tagged_line_is_a_control_question() -> None:
    """A signal line (with or without kind) stays a signal; kind=control is a question."""
    assert is_control_line(b'{"kind":"control","command":"status"}')
    assert not is_control_line(b'{"id":"a","action":"close","symbol":"X"}')
    assert not is_control_line(b'{"kind":"signal","id":"a"}')
    assert not is_control_line(b"[1, 2]")
    assert not is_control_line(b"garbage")


def test_parse_request_refuses_a_naive_since_and_unknown_fields() -> None:
    """Errors come back as a reply with the reason; a valid request is returned as such."""
    ok = parse_request(
        b'{"kind":"control","command":"audit","since":"2026-01-02T03:04:05Z","limit":5}'
    )
    assert ok == ControlRequest(
        command="audit", since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), limit=5
    )
    naive = parse_request(b'{"kind":"control","command":"audit","since":"2026-01-02T03:04:05"}')
    assert isinstance(naive, ControlReply)
    assert naive.error == "`since` needs a UTC offset"
    unknown = parse_request(b'{"kind":"control","command":"status","verbose":true}')
    assert isinstance(unknown, ControlReply)
    assert unknown.error is not None
    assert "verbose" in unknown.error


def test_render_table_aligns_columns_and_right_aligns_numbers() -> None:
    """Header in capitals, text left-aligned, numbers right-aligned, None as a dash."""
    rows: list[dict[str, Any]] = [
        {"symbol": "AAPL", "qty": "10", "reason": None},
        {"symbol": "BRK.B", "qty": "-2.5", "reason": "x"},
    ]
    assert render_table(rows, ["symbol", "qty", "reason"]).splitlines() == [
        "SYMBOL   QTY  REASON",
        "AAPL      10  -",
        "BRK.B   -2.5  x",
    ]
    assert render_table([], ["symbol"]) == "(none)"


def test_render_status_lists_one_field_per_line() -> None:
    """Keys padded to one width; a mapping is written inline."""
    text = render_status({"positions": {"AAPL": "2"}, "unresolved_orders": 0})
    assert text.splitlines() == ["positions          AAPL 2", "unresolved_orders  0"]
