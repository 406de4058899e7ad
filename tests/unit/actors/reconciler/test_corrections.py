from __future__ import annotations

from decimal import Decimal as D

from actors.reconciler.core_corrections import CorrectionBook, Found, why_not_now
from actors.reconciler.core_drift import Cause, Explanation, Mode
from actors.records import CorrectionRecorded, CorrectionStatus, DriftRecorded
from tests.builders import T0

EXTERNAL = Explanation(Cause.EXTERNAL, "manual-1 buy 5")
PHANTOM = Explanation(Cause.PHANTOM, "gone at the venue")
UNKNOWN = Explanation(Cause.UNKNOWN, "?")


def find(
    book: CorrectionBook,
    explanation: Explanation = EXTERNAL,
    *,
    symbol: str = "MSFT",
    ours: str = "0",
    venue: str = "5",
    notional: str | None = "1000",
    found_by: str = "check",
) -> Found:
    return book.found(
        symbol=symbol,
        journal_qty=D(ours),
        venue_qty=D(venue),
        notional=D(notional) if notional is not None else None,
        explanation=explanation,
        found_by=found_by,
        wall=T0,
    )


def book(mode: Mode, limit: str = "1000") -> CorrectionBook:
    return CorrectionBook(mode=mode, auto_limit=D(limit))


def test_observe_records_the_drift_and_nothing_else() -> None:
    """observe: a drift record with its cause; no correction."""
    found = find(book("observe"))
    assert [type(r) for r in found.records] == [DriftRecorded]
    assert found.drift.cause == "external"
    assert found.correction is None
    assert not found.apply_now


def test_approve_queues_a_trade_back_to_the_intended_position() -> None:
    """approve: the correction is queued, targeting tradingd's own position."""
    b = book("approve")
    found = find(b, ours="2", venue="7")
    assert found.correction is not None
    assert found.correction.status == "queued"
    assert not found.apply_now
    assert found.correction.remedy == "trade_back"
    assert found.correction.target_qty == D(2)
    assert b.for_approval(found.correction.correction_id) == found.correction


def test_auto_applies_small_corrections_and_queues_large_ones() -> None:
    """auto: within the limit it is applied at once; above, queued with the reason."""
    b = book("auto", limit="1000")
    small = find(b, notional="1000")
    large = find(b, symbol="AAPL", notional="1000.01")
    assert small.apply_now
    assert not large.apply_now
    assert large.correction is not None
    assert "above the auto limit" in (large.correction.detail or "")


def test_an_unknown_cause_is_never_corrected() -> None:
    """Without a known cause there is no safe correction, even in auto mode."""
    found = find(book("auto"), UNKNOWN)
    assert found.correction is None


def test_a_newer_drift_supersedes_the_queued_correction_of_its_symbol() -> None:
    """An operator never approves a plan made for a position that has moved on."""
    b = book("approve")
    first = find(b)
    second = find(b, venue="8")
    assert first.correction is not None
    assert second.correction is not None
    superseded = next(r for r in second.records if isinstance(r, CorrectionRecorded))
    assert superseded.correction_id == first.correction.correction_id
    assert superseded.status == "superseded"
    assert b.for_approval(first.correction.correction_id) is None
    assert [c.correction_id for c in b.queued] == [second.correction.correction_id]


def test_settling_takes_it_out_of_the_queue_so_a_second_approval_finds_nothing() -> None:
    """Once applied, the id is no longer approvable."""
    b = book("approve")
    correction = find(b).correction
    assert correction is not None
    done = b.settle(correction, CorrectionStatus.APPLIED, T0, "sent")
    assert done.status == "applied"
    assert b.for_approval(correction.correction_id) is None


def test_ids_number_on_from_the_journal_and_queued_ones_survive() -> None:
    """After a restart, ids continue and queued corrections can still be approved."""
    b = book("approve")
    correction = find(b).correction
    assert correction is not None
    again = book("approve")
    again.restore(41, 9, [correction])
    assert again.for_approval(correction.correction_id) == correction
    found = find(again, symbol="AMD")
    assert found.drift.drift_id == 42
    assert found.correction is not None
    assert found.correction.correction_id == 10


def test_a_correction_is_stale_once_the_venue_moved() -> None:
    """Applied only to the position it was made for."""
    correction = find(book("approve")).correction
    assert correction is not None
    assert why_not_now(correction, D(5), D(5)) is None
    stale = why_not_now(correction, D(6), D(6))
    assert stale is not None
    assert stale[0] == "stale"


def test_a_correction_waits_for_an_executor_that_lacks_the_venue_position() -> None:
    """A trade-back needs an executor holding the venue's quantity, or it would misjudge."""
    correction = find(book("approve"), ours="10", venue="15").correction
    assert correction is not None
    waits = why_not_now(correction, D(15), D(10))
    assert waits is not None
    assert waits[0] == "queued"
    assert "after a restart" in waits[1]


def test_a_phantom_is_adopted_not_bought_back() -> None:
    """The venue closed it: the journal follows the venue; no order."""
    correction = find(book("approve"), PHANTOM, ours="20", venue="0").correction
    assert correction is not None
    assert correction.remedy == "adopt_position"
    assert correction.target_qty == D(0)


def test_the_latest_drift_of_a_symbol_follows_its_correction() -> None:
    """Reports show each symbol's latest drift with its correction's current status."""
    b = book("approve")
    assert b.latest("MSFT") is None
    found = find(b)
    assert found.correction is not None
    assert b.latest("MSFT") == (found.drift, found.correction)
    applied = b.settle(found.correction, CorrectionStatus.APPLIED, T0, "sent")
    assert b.latest("MSFT") == (found.drift, applied)
    observed = find(book("observe"))
    assert observed.correction is None
