from __future__ import annotations

from decimal import Decimal

import msgspec

from actors.records import CorrectionRecorded, CorrectionStatus, DriftRecorded
from daemon.metrics import Metrics
from tests.builders import T0


def test_drifts_count_by_cause_and_corrections_by_status() -> None:
    """Every drift record and every change of a correction's status is counted."""
    metrics = Metrics()
    drift = DriftRecorded(
        at=T0,
        drift_id=1,
        symbol="MSFT",
        journal_qty=Decimal(0),
        venue_qty=Decimal(5),
        notional=Decimal(1000),
        cause="external",
        detail="manual-1 buy 5",
        found_by="check",
    )
    queued = CorrectionRecorded(
        at=T0,
        correction_id=1,
        drift_id=1,
        symbol="MSFT",
        cause="external",
        remedy="trade_back",
        journal_qty=Decimal(0),
        venue_qty=Decimal(5),
        target_qty=Decimal(0),
        notional=Decimal(1000),
        status=CorrectionStatus.QUEUED,
    )
    applied = msgspec.structs.replace(queued, status="applied")
    for record in (drift, queued, applied):
        metrics.observe(record)
    page = metrics.render({})
    assert 'tradingd_drifts_total{cause="external"} 1' in page
    assert 'tradingd_corrections_total{status="queued"} 1' in page
    assert 'tradingd_corrections_total{status="applied"} 1' in page
