"""The whole path over real loopback sockets: stdin-style lines in, filled orders at the
embedded paper venue, fills back over its websocket, positions and journal recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import trio

from daemon.config import load_config
from daemon.credentials import load_credentials
from daemon.supervisor import Daemon, open_daemon

if TYPE_CHECKING:
    from pathlib import Path

    from actors.messages import Ack

SIGNALS = [
    b'{"id":"s1","symbol":"AAPL","action":"buy","qty":10}',
    b'{"id":"s2","symbol":"MSFT","action":"buy","qty":"2.5"}',
    b'{"id":"s3","symbol":"AAPL","action":"sell","qty":4}',
    b'{"id":"s1","symbol":"AAPL","action":"buy","qty":10}',
    b'{"id":"s4","symbol":"MSFT","action":"close"}',
    b'{"id":"s5","symbol":"NVDA","action":"close"}',
    b'{"id":"s6","symbol":"NOPE","action":"buy","qty":1}',
    b"garbage",
    b'{"id":"s7","symbol":"AAPL","action":"buy","qty":-1}',
]


async def venue_state(daemon: Daemon) -> dict:  # type: ignore[type-arg]
    assert daemon.venue is not None
    async with httpx.AsyncClient(base_url=daemon.venue.alpaca_url) as client:
        response = await client.get("/_sim/state")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


async def run_signals(journal: Path, lines: list[bytes]) -> tuple[list[Ack], dict, Daemon]:  # type: ignore[type-arg]
    config = load_config(None)
    credentials = load_credentials("paper", {}, None)
    async with open_daemon(config, credentials, journal_path=str(journal)) as daemon:
        with trio.fail_after(10):
            await daemon.prices.wait_for("AAPL")
            await daemon.prices.wait_for("MSFT")
            acks = [await daemon.intake.submit(line, "test") for line in lines]
            await daemon.activity.wait_idle()
        state = await venue_state(daemon)
        await daemon.journal.flush()
        return acks, state, daemon


async def test_signals_become_filled_orders_and_positions_match_the_venue(tmp_path: Path) -> None:
    """Good signals trade, bad ones are rejected with reasons, positions equal the venue's."""
    acks, state, daemon = await run_signals(tmp_path / "journal.sqlite3", SIGNALS)
    statuses = [(a.id, a.status) for a in acks]
    assert statuses == [
        ("s1", "accepted"),
        ("s2", "accepted"),
        ("s3", "accepted"),
        ("s1", "duplicate"),
        ("s4", "accepted"),
        ("s5", "accepted"),
        ("s6", "rejected"),
        (None, "rejected"),
        ("s7", "rejected"),
    ]
    assert acks[5].reason == "no order: position is flat"
    assert "NOPE" in (acks[6].reason or "")
    venue_positions = {p["symbol"]: Decimal(p["qty"]) for p in state["positions"]}
    assert venue_positions == {"AAPL": Decimal(6)}
    assert daemon.positions() == venue_positions
    assert daemon.unresolved() == 0
    # Every order reached the venue exactly once.
    assert set(state["submissions"].values()) == {1}
    assert len(state["submissions"]) == 4


async def test_journal_records_orders_fills_positions_and_venue_calls(tmp_path: Path) -> None:
    """The journal holds the orders, fills, positions and an audit row per venue call."""
    path = tmp_path / "journal.sqlite3"
    await run_signals(path, SIGNALS[:3])
    from daemon.journal.store import open_journal

    async with open_journal(path) as journal:
        orders = await journal.orders()
        assert sorted(o.state for o in orders) == ["filled", "filled", "filled"]
        fills = await journal.fills()
        assert sum(f.qty for f in fills if f.symbol == "AAPL") == Decimal(14)
        positions = await journal.positions()
        assert positions["AAPL"].qty == Decimal(6)
        audit = await journal.audit()
        posts = [a for a in audit if a.method == "POST" and a.path.endswith("/v2/orders")]
        assert len(posts) == 3
        assert await journal.accepted_signal_ids() == {"s1", "s2", "s3"}


async def test_a_signal_id_is_a_duplicate_after_a_restart(tmp_path: Path) -> None:
    """The same journal remembers signal ids across restarts: no second trade."""
    path = tmp_path / "journal.sqlite3"
    await run_signals(path, SIGNALS[:1])
    acks, state, _ = await run_signals(path, SIGNALS[:1])
    assert acks[0].status == "duplicate"
    assert state["submissions"] == {}
