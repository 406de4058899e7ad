"""Builders for the futures tests: a futures core listing December 2026's MNQ and MES."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from brokers.sim.core.contracts import PRODUCTS, FuturesContract
from brokers.sim.core.matching import MatchingCore
from brokers.sim.tradovate.front import contract_asset

# A Monday in November 2026, during the Globex session (09:00 Chicago, CST).
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
D = Decimal
MNQ = FuturesContract(PRODUCTS["MNQ"], 2026, 12)
MES = FuturesContract(PRODUCTS["MES"], 2026, 12)


def futures_core(cash: str = "100000", mnq: str = "21000.25", mes: str = "6000.00") -> MatchingCore:
    """A futures account holding ``cash``, MNQZ6 and MESZ6 listed at the given prices."""
    contracts = [MNQ, MES]
    counter = itertools.count(1)
    return MatchingCore.create(
        [contract_asset(c) for c in contracts],
        {MNQ.name: D(mnq), MES.name: D(mes)},
        D(cash),
        new_id=lambda: f"id-{next(counter)}",
        instruments=[c.instrument() for c in contracts],
    )
