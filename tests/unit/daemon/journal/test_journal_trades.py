"""The journal reads behind `tradingd trades` and the metrics page's drift count."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from actors.records import FillRecorded, IntentRecorded
from brokers.base import OrderType, Side
from daemon.journal.store import open_journal
from daemon.trades import OrderKind, round_trips
from tests.builders import request
from tests.unit.journal_builders import at, call, fill, intent, position, state

if TYPE_CHECKING:
    from pathlib import Path


async def test_trade_history_reads_fills_their_orders_and_positions(tmp_path: Path) -> None:
    """Each filled order's leg and order type; a venue-id leg without intent has neither."""
    take_profit = IntentRecorded(
        at=at(),
        signal_id="s2",
        leg="exit",
        request=request(
            cid="s2-exit", side=Side.SELL, order_type=OrderType.LIMIT, limit_price="200"
        ),
    )
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(
            intent("s1-entry"),
            fill("s1-entry", "e1", "10", "100"),
            take_profit,
            fill("s2-exit", "e2", "4", "200"),
            state("venue-leg", "filled"),
            fill("venue-leg", "e3", "6", "90"),
            fill("m1-entry", "e4", "1", "50", symbol="MSFT"),
            position("AAPL", "0", "0", "440"),
        )
        history = await journal.trade_history()
        msft = await journal.trade_history("MSFT")
    assert [(f.client_order_id, f.qty, f.price) for f in history.fills] == [
        ("s1-entry", 10, 100),
        ("s2-exit", 4, 200),
        ("venue-leg", 6, 90),
        ("m1-entry", 1, 50),
    ]
    assert history.kinds == {
        "s1-entry": OrderKind(leg="entry", order_type=OrderType.MARKET),
        "s2-exit": OrderKind(leg="exit", order_type=OrderType.LIMIT),
        "venue-leg": OrderKind(),
    }
    assert history.positions == {"AAPL": Decimal(0)}
    assert [f.symbol for f in msft.fills] == ["MSFT"]
    assert set(msft.kinds) == set()


async def test_drift_count_counts_the_drifts_table(tmp_path: Path) -> None:
    """Zero on a fresh journal; each recorded drift counts."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        assert await journal.drift_count() == 0
    with sqlite3.connect(path) as conn:
        # Whatever the table's columns are, fill the required ones: only the count matters.
        required = [
            name
            for _, name, _, notnull, default, primary in conn.execute("PRAGMA table_info(drifts)")
            if notnull and default is None and not primary
        ]
        conn.execute(
            f"INSERT INTO drifts ({', '.join(required)}) VALUES ({', '.join('?' * len(required))})",
            ["2026-01-05T15:00:00.000000+00:00"] * len(required),
        )
    conn.close()
    async with open_journal(path) as journal:
        assert await journal.drift_count() == 1


def _order_json(
    cid: str, kind: str, legs: list[dict[str, object]] | None = None
) -> dict[str, object]:
    return {"id": f"v-{cid}", "client_order_id": cid, "type": kind, "legs": legs}


async def test_bracket_legs_with_venue_ids_get_their_type_from_the_venue_call_log(
    tmp_path: Path,
) -> None:
    """The entry's answer nests its legs: the limit leg's exit is a tp, the stop leg's an sl."""
    bracket = _order_json(
        "s1-entry",
        "market",
        [_order_json("leg-tp-uuid", "limit"), _order_json("leg-sl-uuid", "stop")],
    )
    posted = call(
        "/v2/orders",
        method="POST",
        request_body='{"order_class":"bracket"}',
        response_body=msgspec.json.encode(bracket).decode(),
    )
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(
            intent("s1-entry"),
            posted,
            call("/v2/orders", response_body='{"legs": not json'),
            fill("s1-entry", "e1", "10", "100"),
            state("leg-tp-uuid", "partially_filled"),
            _sell("leg-tp-uuid", "e2", "4", "110"),
            _sell("leg-sl-uuid", "e3", "6", "95"),
        )
        history = await journal.trade_history()
    assert history.kinds["leg-tp-uuid"] == OrderKind(order_type=OrderType.LIMIT)
    assert history.kinds["leg-sl-uuid"] == OrderKind(order_type=OrderType.STOP)
    trips = round_trips(history.fills, history.kinds)
    assert [(t.exit_reason, t.qty, t.realized_pnl) for t in trips] == [
        ("tp", 4, 40),
        ("sl", 6, -30),
    ]


def _sell(cid: str, execution_id: str, qty: str, price: str) -> FillRecorded:
    return msgspec.structs.replace(fill(cid, execution_id, qty, price), side=Side.SELL)
