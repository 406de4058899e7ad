"""The Reconciler's book of drifts and corrections: numbering, queueing, approval. Pure.

A drift found is journaled with its cause. Its correction (when the cause has a safe one) is
journaled ``queued`` first, whatever the mode: in auto mode the task applies it at once when
it is within the notional limit, and a correction that cannot be applied yet stays queued
with the reason. A newer correction of the same symbol supersedes a queued older one, so an
operator never approves a plan made for a position that has moved on.

Statuses (``CorrectionStatus``): ``queued`` → ``applied`` | ``stale`` (the venue's position
moved since it was proposed: nothing done) | ``superseded`` | ``failed`` (the trade-back
signal was refused).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, assert_never

import attrs
import msgspec

from actors.reconciler.core_drift import (
    Disposal,
    Explanation,
    Mode,
    Remedy,
    dispose,
    expected_holding,
    remedy_for,
    target_after,
)
from actors.records import CorrectionRecorded, CorrectionStatus, DriftRecorded, JournalRecord

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

QUEUED = CorrectionStatus.QUEUED


@attrs.frozen
class Found:
    """What recording one drift produced: the records to journal, and what to apply now."""

    records: tuple[JournalRecord, ...]
    drift: DriftRecorded
    correction: CorrectionRecorded | None
    apply_now: bool


@attrs.define
class CorrectionBook:
    mode: Mode = "observe"
    auto_limit: Decimal = Decimal(1000)
    _last_drift_id: int = 0
    _last_correction_id: int = 0
    _queued: dict[int, CorrectionRecorded] = attrs.field(factory=dict)
    # Each symbol's latest drift and what became of its correction, for reports.
    _latest: dict[str, tuple[DriftRecorded, CorrectionRecorded | None]] = attrs.field(factory=dict)

    def restore(
        self, last_drift_id: int, last_correction_id: int, queued: Iterable[CorrectionRecorded]
    ) -> None:
        """Continue from the journal: ids number on, queued corrections stay approvable."""
        self._last_drift_id = last_drift_id
        self._last_correction_id = last_correction_id
        self._queued = {c.correction_id: c for c in queued if c.status == QUEUED}

    def latest(self, symbol: str) -> tuple[DriftRecorded, CorrectionRecorded | None] | None:
        """The symbol's latest drift recorded by this run, and its correction as it stands."""
        return self._latest.get(symbol)

    @property
    def queued(self) -> list[CorrectionRecorded]:
        return sorted(self._queued.values(), key=lambda c: c.correction_id)

    def found(
        self,
        *,
        symbol: str,
        journal_qty: Decimal,
        venue_qty: Decimal,
        notional: Decimal | None,
        explanation: Explanation,
        found_by: str,
        wall: datetime,
    ) -> Found:
        self._last_drift_id += 1
        drift = DriftRecorded(
            at=wall,
            drift_id=self._last_drift_id,
            symbol=symbol,
            journal_qty=journal_qty,
            venue_qty=venue_qty,
            notional=notional,
            cause=explanation.cause.value,
            detail=explanation.detail,
            found_by=found_by,
        )
        remedy = remedy_for(explanation.cause, at_startup=found_by == "startup")
        disposal = dispose(self.mode, remedy, notional, self.auto_limit)
        self._latest[symbol] = (drift, None)
        if remedy is None or disposal is Disposal.REPORT:
            return Found(records=(drift,), drift=drift, correction=None, apply_now=False)
        records: list[JournalRecord] = [drift]
        records.extend(
            self.settle(
                older, CorrectionStatus.SUPERSEDED, wall, f"superseded by drift {drift.drift_id}"
            )
            for older in [c for c in self._queued.values() if c.symbol == symbol]
        )
        self._last_correction_id += 1
        correction = CorrectionRecorded(
            at=wall,
            correction_id=self._last_correction_id,
            drift_id=drift.drift_id,
            symbol=symbol,
            cause=drift.cause,
            remedy=remedy.value,
            journal_qty=journal_qty,
            venue_qty=venue_qty,
            target_qty=target_after(remedy, journal_qty, venue_qty),
            notional=notional,
            status=QUEUED,
            detail=None if disposal is Disposal.APPLY else _why_queued(self.mode, notional),
        )
        self._queued[correction.correction_id] = correction
        self._latest[symbol] = (drift, correction)
        records.append(correction)
        return Found(
            records=tuple(records),
            drift=drift,
            correction=correction,
            apply_now=disposal is Disposal.APPLY,
        )

    def for_approval(self, correction_id: int) -> CorrectionRecorded | None:
        """The queued correction with this id; None when there is none (or not any more)."""
        return self._queued.get(correction_id)

    def settle(
        self,
        correction: CorrectionRecorded,
        status: CorrectionStatus,
        wall: datetime,
        detail: str | None = None,
        signal_id: str | None = None,
    ) -> CorrectionRecorded:
        """The correction's new status (``queued`` again keeps it in the queue, with why)."""
        updated = msgspec.structs.replace(
            correction, at=wall, status=status, detail=detail, signal_id=signal_id
        )
        match status:
            case CorrectionStatus.QUEUED:
                self._queued[correction.correction_id] = updated
            case (
                CorrectionStatus.APPLIED
                | CorrectionStatus.STALE
                | CorrectionStatus.SUPERSEDED
                | CorrectionStatus.FAILED
            ):
                self._queued.pop(correction.correction_id, None)
            case _:
                assert_never(status)
        latest = self._latest.get(correction.symbol)
        if latest is not None and latest[0].drift_id == correction.drift_id:
            self._latest[correction.symbol] = (latest[0], updated)
        return updated


def _why_queued(mode: Mode, notional: Decimal | None) -> str:
    if mode == "approve":
        return "waits for approval"
    if notional is None:
        return "waits for approval: no price to value it against the auto limit"
    return f"waits for approval: notional {notional} is above the auto limit"


def why_not_now(
    correction: CorrectionRecorded, venue_qty_now: Decimal, holding: Decimal
) -> tuple[CorrectionStatus, str] | None:
    """(status, reason) when the correction must not be applied now; None when it may.

    ``holding`` is what the symbol's executor holds (for a symbol without one, what it would
    start from: the venue's latest position).
    """
    if venue_qty_now != correction.venue_qty:
        return (
            CorrectionStatus.STALE,
            f"the venue's position moved from {correction.venue_qty} to {venue_qty_now} "
            "since the drift was found; nothing done",
        )
    remedy = Remedy(correction.remedy)
    needed = expected_holding(remedy, correction.journal_qty, correction.venue_qty)
    if holding != needed:
        return (
            QUEUED,
            f"the {correction.symbol} executor holds {holding}, not the {needed} this "
            "correction assumes; it starts from the venue's position after a restart",
        )
    return None
