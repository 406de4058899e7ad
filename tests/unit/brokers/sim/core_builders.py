"""Builders for the paper venue's matching core tests: a core with a small universe, and
order tickets that state only what a test cares about."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.assets import SimAsset
from brokers.sim.core.matching import MatchingCore
from brokers.sim.core.orders import OrderTicket

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
D = Decimal


def make_core(cash: str = "100000", **prices: str) -> MatchingCore:
    """A core listing ``prices`` (AAPL and MSFT by default), plus HARD (not shortable, not
    fractionable) and HALT (not tradable)."""
    listed = prices or {"AAPL": "100.00", "MSFT": "400.00"}
    assets = [SimAsset(symbol=s) for s in listed]
    assets.append(SimAsset(symbol="HARD", shortable=False, fractionable=False))
    assets.append(SimAsset(symbol="HALT", tradable=False))
    counter = itertools.count(1)
    return MatchingCore.create(
        assets,
        {**{s: D(p) for s, p in listed.items()}, "HARD": D("50"), "HALT": D("10")},
        D(cash),
        new_id=lambda: f"id-{next(counter)}",
    )


def ticket(
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    qty: str | None = "10",
    *,
    cid: str | None = None,
    order_type: OrderType = OrderType.MARKET,
    limit: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    notional: str | None = None,
) -> OrderTicket:
    return OrderTicket(
        symbol=symbol,
        side=side,
        type=order_type,
        time_in_force=tif,
        qty=D(qty) if qty is not None else None,
        notional=D(notional) if notional is not None else None,
        limit_price=D(limit) if limit is not None else None,
        stop_price=D(stop) if stop is not None else None,
        client_order_id=cid,
    )
