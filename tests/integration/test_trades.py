"""`tradingd trades` and `tradingd audit` filters through the control API, over a real unix
socket, against the embedded paper venue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

import msgspec
import pytest
import trio

from daemon.config import load_config
from daemon.control.client import ask, render_reply
from daemon.control.server import ControlReply, ControlRequest, serve_listener
from daemon.credentials import load_credentials
from daemon.listeners import open_unix_listener
from daemon.startup.front import Front
from daemon.supervisor import Daemon, open_daemon

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

SIGNALS: list[dict[str, object]] = [
    {"id": "t-buy", "symbol": "AAPL", "action": "buy", "qty": 10},
    {"id": "t-trim", "symbol": "AAPL", "action": "sell", "qty": 4},
    {"id": "t-close", "symbol": "AAPL", "action": "close"},
    {"id": "m-short", "symbol": "MSFT", "action": "sell", "qty": 3},
    {"id": "m-cover", "symbol": "MSFT", "action": "target", "target_qty": 0},
]


@pytest.fixture
def socket_path(short_dir: Path) -> str:
    return str(short_dir / "tradingd.sock")


@pytest.fixture
async def traded(tmp_path: Path, socket_path: str, nursery: trio.Nursery) -> AsyncIterator[Daemon]:
    """A daemon that has run SIGNALS to the end, listening on ``socket_path``."""
    credentials = load_credentials("paper", {}, None)
    journal = str(tmp_path / "journal.sqlite3")
    async with open_daemon(load_config(None), credentials, journal_path=journal) as daemon:
        opened = await open_unix_listener(socket_path)
        nursery.start_soon(
            partial(
                serve_listener, Front.serving(daemon), opened.listener, local=True, name=socket_path
            )
        )
        with trio.fail_after(20):
            await daemon.prices.wait_for("AAPL")
            for signal in SIGNALS:
                ack = await daemon.intake.submit(_line(signal), "test")
                assert ack.status == "accepted", ack
                await daemon.activity.wait_idle()
            await daemon.journal.flush()
        yield daemon


def _line(signal: dict[str, object]) -> bytes:
    return msgspec.json.encode(signal)


async def _ask(path: str, **fields: object) -> ControlReply:
    with trio.fail_after(10):
        reply = await ask(path, ControlRequest(**fields))  # type: ignore[arg-type]
    assert reply.ok, reply.error
    return reply


async def test_trades_lists_round_trips_whose_pnl_adds_up_to_the_position(
    traded: Daemon, socket_path: str
) -> None:
    """A trim and a close of one long, a covered short: three trips with their reasons."""
    reply = await _ask(socket_path, command="trades")
    trips = reply.data
    assert [(t["symbol"], t["side"], Decimal(t["qty"]), t["exit_reason"]) for t in trips] == [
        ("AAPL", "long", 4, "signal"),
        ("AAPL", "long", 6, "close"),
        ("MSFT", "short", 3, "signal"),
    ]
    positions = await traded.journal.positions()
    for symbol, position in positions.items():
        pnl = sum(Decimal(t["realized_pnl"]) for t in trips if t["symbol"] == symbol)
        assert pnl == position.realized_pnl
        assert position.qty == 0
    fills = await traded.journal.fills()
    entry = next(f for f in fills if f.symbol == "AAPL")
    assert all(Decimal(t["entry_avg"]) == entry.price for t in trips if t["symbol"] == "AAPL")
    table = render_reply(reply).splitlines()
    assert table[0].split() == [
        "CLOSED_AT",
        "SYMBOL",
        "SIDE",
        "QTY",
        "ENTRY_AVG",
        "EXIT_AVG",
        "REALIZED_PNL",
        "EXIT_REASON",
        "OPENED_AT",
    ]
    assert len(table) == 4
    # Aligned: every row's symbol starts under the header's.
    assert {row.index(" AAPL ") + 1 for row in table[1:3]} == {table[0].index("SYMBOL")}


async def test_trades_filter_by_symbol_and_closing_time(traded: Daemon, socket_path: str) -> None:
    """--symbol (any case) and a [since, until) window on the time a trip closed."""
    everything = (await _ask(socket_path, command="trades")).data
    last_close = max(datetime.fromisoformat(t["closed_at"]) for t in everything)
    msft = await _ask(socket_path, command="trades", symbol="msft")
    later = await _ask(socket_path, command="trades", since=last_close + timedelta(seconds=1))
    before = await _ask(socket_path, command="trades", until=last_close)
    latest = await _ask(socket_path, command="trades", limit=1)
    assert [t["symbol"] for t in msft.data] == ["MSFT"]
    assert later.data == []
    assert len(before.data) == len(everything) - 1
    assert latest.data == everything[-1:]


async def test_audit_filters_by_symbol_and_time_window(traded: Daemon, socket_path: str) -> None:
    """Venue calls about one symbol, between since and until."""
    calls = (await _ask(socket_path, command="audit", symbol="AAPL", limit=10_000)).data
    times = [datetime.fromisoformat(c["at"]) for c in calls]
    assert {c["symbol"] for c in calls} == {"AAPL"}
    middle = times[len(times) // 2]
    after = await _ask(socket_path, command="audit", symbol="AAPL", since=middle, limit=10_000)
    before = await _ask(socket_path, command="audit", symbol="AAPL", until=middle, limit=10_000)
    assert len(after.data) + len(before.data) == len(calls)
    assert all(datetime.fromisoformat(c["at"]) < middle for c in before.data)
    future = datetime.now(UTC) + timedelta(days=1)
    assert (await _ask(socket_path, command="audit", since=future)).data == []


async def test_a_naive_time_window_is_refused_with_a_reason(
    traded: Daemon, socket_path: str
) -> None:
    """`until` without a UTC offset is an error reply, not a guess."""
    with trio.fail_after(10):
        reply = await ask(socket_path, ControlRequest(command="trades", until=datetime(2026, 1, 1)))
    assert (reply.ok, reply.error) == (False, "`until` needs a UTC offset")


async def test_a_failing_journal_read_is_an_error_reply_and_the_daemon_serves_on(
    traded: Daemon, socket_path: str, tmp_path: Path
) -> None:
    """The journal file out of reach for new readers: `trades` says why; status still works."""
    journal = tmp_path / "journal.sqlite3"
    hidden = tmp_path / "hidden.sqlite3"
    journal.rename(hidden)  # the writer keeps its open file; a new reader finds nothing
    try:
        with trio.fail_after(10):
            refused = await ask(socket_path, ControlRequest(command="trades"))
            status = await ask(socket_path, ControlRequest(command="status"))
    finally:
        hidden.rename(journal)
    assert refused.ok is False
    assert "cannot be read" in (refused.error or "")
    assert status.ok


async def test_orders_for_one_symbol_are_its_latest_not_the_latest_overall(
    traded: Daemon, socket_path: str
) -> None:
    """`orders --symbol AAPL --limit 2`: AAPL's last two, though MSFT traded after them."""
    reply = await _ask(socket_path, command="orders", symbol="AAPL", limit=2)
    assert [o["signal_id"] for o in reply.data] == ["t-trim", "t-close"]
