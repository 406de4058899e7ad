"""The journal reads startup uses to find orders a crash kept out of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from daemon.journal.store import open_journal
from tests.unit.journal_builders import at, call, intent, signal, state

if TYPE_CHECKING:
    from pathlib import Path


async def test_last_record_at_is_the_newest_time_in_any_table(tmp_path: Path) -> None:
    """None for a new journal; else the latest of signals, states, fills and venue calls."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        assert await journal.last_record_at() is None
        await journal.commit(signal("s1", seconds=1), state("td-s1-entry", "accepted", seconds=3))
        await journal.commit(call("/v2/orders", seconds=7), signal("s2", seconds=5))
        assert await journal.last_record_at() == at(7)


async def test_known_order_ids_names_only_the_orders_the_journal_has(tmp_path: Path) -> None:
    """Of the ids asked about (more than one query's worth), only journaled ones come back."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(intent("td-a-entry"), state("td-b-entry", "filled"))
        asked = [f"td-x{n}-entry" for n in range(1200)] + ["td-a-entry", "td-b-entry"]
        assert await journal.known_order_ids(asked) == {"td-a-entry", "td-b-entry"}


async def test_a_signal_named_by_an_order_counts_as_accepted(tmp_path: Path) -> None:
    """A signal whose ack a crash lost but whose order is journaled never trades again."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(
            signal("acked"),
            signal("refused", status="rejected"),
            state("td-lost-entry", "filled"),
            intent("td-lost-entry"),
        )
        assert await journal.accepted_signal_ids() == {"acked", "td-lost"}
