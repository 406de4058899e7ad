"""Invariants of the correction book over any sequence of drifts, approvals and outcomes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from actors.reconciler.core_corrections import CorrectionBook
from actors.reconciler.core_drift import Cause, Explanation, Mode
from actors.records import CorrectionRecorded
from tests.builders import T0
from tests.strategies import correction_steps


@given(correction_steps, st.sampled_from(["observe", "approve", "auto"]))
def test_one_queued_correction_per_symbol_and_every_id_decided_once(
    script: list[tuple[Any, ...]], mode: Mode
) -> None:
    """At most one queued correction per symbol; a settled correction is never approvable
    again; ids only grow; observe never proposes anything."""
    book = CorrectionBook(mode=mode, auto_limit=Decimal(1000))
    written: dict[int, list[CorrectionRecorded]] = {}
    for step in script:
        if step[0] == "found":
            _, symbol, cause, venue, notional = step
            result = book.found(
                symbol=symbol,
                journal_qty=Decimal(0),
                venue_qty=Decimal(venue),
                notional=Decimal(notional),
                explanation=Explanation(Cause(cause), "-"),
                found_by="check",
                wall=T0,
            )
            for record in result.records:
                if isinstance(record, CorrectionRecorded):
                    written.setdefault(record.correction_id, []).append(record)
            if mode == "observe":
                assert result.correction is None
        else:
            _, cid, status = step
            correction = book.for_approval(cid)
            if correction is not None:
                written[correction.correction_id].append(book.settle(correction, status, T0))
        queued = book.queued
        assert len({c.symbol for c in queued}) == len(queued)
        for cid, history in written.items():
            if history[-1].status != "queued":
                assert book.for_approval(cid) is None
            # Once decided, never queued again.
            decided = [i for i, c in enumerate(history) if c.status != "queued"]
            if decided:
                assert all(c.status != "queued" for c in history[decided[0] :])
    assert sorted(written) == list(range(1, len(written) + 1))
