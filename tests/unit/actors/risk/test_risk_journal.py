"""RiskGuard's persisted state on a real journal file: the halt, latch and trading day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from actors.records import RiskStateRecorded
from daemon.journal.store import open_journal
from tests.unit.journal_builders import at

if TYPE_CHECKING:
    from pathlib import Path


async def test_risk_state_round_trips_and_keeps_only_the_latest(tmp_path: Path) -> None:
    """The latest state comes back after a reopen, exact; earlier ones are replaced."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        assert await journal.risk_state() is None
        await journal.commit(
            RiskStateRecorded(at=at(0), halted=False, trading_day=date(2026, 1, 5)),
            RiskStateRecorded(
                at=at(1),
                halted=True,
                latched="reducing",
                trading_day=date(2026, 1, 6),
                start_equity=Decimal("100000.015"),
            ),
        )
    async with open_journal(path) as journal:
        state = await journal.risk_state()
    assert state == RiskStateRecorded(
        at=at(1),
        halted=True,
        latched="reducing",
        trading_day=date(2026, 1, 6),
        start_equity=Decimal("100000.015"),
    )
