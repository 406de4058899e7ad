"""The CLI's arguments for the query commands: times are UTC unless they say otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from daemon.cli import _parser
from daemon.exit_status import ExitStatus


def test_trades_and_audit_take_a_symbol_and_a_time_window() -> None:
    """A time without an offset is UTC; one with an offset keeps it."""
    for command in ("trades", "audit"):
        args = _parser().parse_args(
            [
                command,
                "--symbol",
                "aapl",
                "--since",
                "2026-01-05T15:00",
                "--until",
                "2026-01-06T00:00+01:00",
                "--limit",
                "5",
                "--json",
            ]
        )
        assert args.since == datetime(2026, 1, 5, 15, tzinfo=UTC)
        assert args.until == datetime(2026, 1, 6, tzinfo=timezone(timedelta(hours=1)))
        assert (args.symbol, args.limit, args.json, args.command) == ("aapl", 5, True, command)


def test_a_time_that_is_not_iso_8601_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """The usage status (64, not argparse's 2), naming the bad value."""
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(["trades", "--since", "yesterday"])
    assert exited.value.code == ExitStatus.USAGE
    assert "not an ISO 8601 time: 'yesterday'" in capsys.readouterr().err


@pytest.mark.parametrize("chosen", ["text", "json"])
def test_run_takes_a_log_format(chosen: str) -> None:
    """--log-format is offered on run, with text and json only."""
    assert _parser().parse_args(["run", "--log-format", chosen]).log_format == chosen
