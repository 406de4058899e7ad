"""`tradingd signals`: --failed lists the quarantined signals, `clear ID` resolves one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from daemon.cli import _parser
from daemon.control.client import render_reply
from daemon.control.server import ControlReply, ControlRequest, parse_request
from daemon.exit_status import ExitStatus

if TYPE_CHECKING:
    import pytest


def test_signals_failed_and_clear_become_their_control_requests() -> None:
    """--socket and --json may come before or after `clear`; the id is a string."""
    listing = _parser().parse_args(["signals", "--failed", "--json"])
    assert (listing.command, listing.failed, listing.json) == ("failed_signals", True, True)
    for argv in (
        ["signals", "--socket", "/s", "clear", "sig-1"],
        ["signals", "clear", "sig-1", "--socket", "/s"],
    ):
        clear = _parser().parse_args(argv)
        assert (clear.command, clear.signal_id, clear.socket) == ("clear_signal", "sig-1", "/s")


def test_signals_without_failed_is_refused_before_asking_the_daemon(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing to list without --failed: exit status 2 and a line saying what to type."""
    args = _parser().parse_args(["signals", "--socket", "/nowhere"])
    assert args.func(args) == ExitStatus.USAGE
    assert "--failed" in caplog.text


def test_the_clear_request_carries_the_signal_id_and_needs_one() -> None:
    """The control line names the id; an empty one is refused as any bad request is."""
    line = b'{"kind":"control","command":"clear_signal","signal_id":"sig-1"}'
    assert parse_request(line) == ControlRequest(command="clear_signal", signal_id="sig-1")
    empty = parse_request(b'{"kind":"control","command":"clear_signal","signal_id":""}')
    assert isinstance(empty, ControlReply)
    assert not empty.ok


def test_failed_signals_render_as_a_table_and_a_clear_as_lines() -> None:
    """A person sees when, which signal, where it failed and why."""
    row = {
        "signal_id": "sig-1",
        "at": "2026-01-05T15:00:00.000000+00:00",
        "stage": "replay",
        "error_type": "ValueError",
        "error": "not replayed: its journal row cannot be read",
        "raw": None,
        "resolved_at": None,
    }
    table = render_reply(ControlReply(command="failed_signals", ok=True, data=[row]))
    header, line = table.splitlines()
    assert header.split() == ["AT", "SIGNAL_ID", "STAGE", "ERROR_TYPE", "ERROR"]
    assert "2026-01-05 15:00:00  sig-1" in line
    assert "replay" in line
    data = {"signal_id": "sig-1", "cleared": True, "id_spent": True}
    cleared = render_reply(ControlReply(command="clear_signal", ok=True, data=data))
    assert "signal_id  sig-1" in cleared.splitlines()
