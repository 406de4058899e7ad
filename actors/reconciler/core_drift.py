"""Drift: why a position differs from the venue's, and what correcting it means.

Pure: no I/O, no clock. The Reconciler's task gathers the facts (positions, the venue's
recent orders, the fills tradingd counted) and this module decides.

Causes, from the evidence only (an unexplained difference is ``unknown``, never guessed):

- ``missed_fill``: orders tradingd placed show more filled at the venue than tradingd counted,
  and exactly the difference: the stream never delivered those fills.
- ``external``: orders tradingd did not place filled at the venue, exactly the difference.
- ``phantom``: tradingd holds a position the venue does not have at all.

What a correction does, per cause (the README's "Reconciliation" section says the same):

- missed fill → ``adopt_fills``: no order; the venue's record of the order is fed to its
  executor as a REST snapshot, which counts the fills like any other. At startup, when the
  executors already start from the venue's positions, it is ``adopt_position``.
- phantom → ``adopt_position``: no order; the journal records the venue's (flat) position.
  Buying back a position the venue closed would be a new trade nobody asked for.
- external → ``trade_back``: a ``target`` signal back to the position tradingd intended,
  through the symbol's executor and RiskGuard; its id derives from the correction id, so
  approving it twice trades once.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import attrs

from actors.ids import is_own_client_order_id

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from brokers.base import VenueOrder

ZERO = Decimal(0)

Mode = Literal["observe", "approve", "auto"]


class Cause(enum.StrEnum):
    MISSED_FILL = "missed_fill"
    EXTERNAL = "external"
    PHANTOM = "phantom"
    UNKNOWN = "unknown"


class Remedy(enum.StrEnum):
    ADOPT_FILLS = "adopt_fills"
    ADOPT_POSITION = "adopt_position"
    TRADE_BACK = "trade_back"


class Disposal(enum.Enum):
    REPORT = "report"  # observe mode, or nothing known to correct
    QUEUE = "queue"  # waits for `tradingd approve ID`
    APPLY = "apply"  # auto mode, within the notional limit


@attrs.frozen
class Explanation:
    cause: Cause
    detail: str
    # Own orders whose fills the venue has and tradingd lacks (missed_fill only).
    missed_orders: tuple[str, ...] = ()


def _signed(order: VenueOrder, qty: Decimal) -> Decimal:
    return qty * order.side.sign


def explain(
    journal_qty: Decimal,
    venue_qty: Decimal,
    orders: Sequence[VenueOrder],
    counted: Mapping[str, Decimal],
) -> Explanation:
    """The cause of one symbol's difference, given the venue's recent orders in that symbol
    and the filled quantity tradingd counted for each of its own (absent: none)."""
    delta = venue_qty - journal_qty
    missed = [
        o
        for o in orders
        if is_own_client_order_id(o.client_order_id)
        and o.filled_qty > counted.get(o.client_order_id, ZERO)
    ]
    missed_qty = sum(
        (_signed(o, o.filled_qty - counted.get(o.client_order_id, ZERO)) for o in missed), ZERO
    )
    if missed and missed_qty == delta:
        names = ", ".join(o.client_order_id for o in missed)
        return Explanation(
            Cause.MISSED_FILL,
            f"venue filled {missed_qty:+} more of {names} than tradingd counted",
            tuple(o.client_order_id for o in missed),
        )
    # An outside order's fills a running executor already took in are counted under its id.
    external = [
        (o, o.filled_qty - counted.get(o.client_order_id or o.venue_order_id, ZERO))
        for o in orders
        if not is_own_client_order_id(o.client_order_id)
    ]
    external_qty = sum((_signed(o, qty) for o, qty in external if qty), ZERO)
    if external_qty and external_qty == delta:
        names = ", ".join(
            f"{o.client_order_id or o.venue_order_id} {o.side} {qty}" for o, qty in external if qty
        )
        return Explanation(Cause.EXTERNAL, f"orders placed outside tradingd filled: {names}")
    if venue_qty == 0 and journal_qty != 0:
        return Explanation(Cause.PHANTOM, "tradingd holds a position the venue does not have")
    return Explanation(Cause.UNKNOWN, f"{delta:+} not explained by the venue's recent orders")


def remedy_for(cause: Cause, *, at_startup: bool) -> Remedy | None:
    """What corrects a drift of this cause; None when nothing safe is known."""
    match cause:
        case Cause.MISSED_FILL:
            # At startup the executors begin from the venue's positions: only the journal's
            # record is behind, and no executor holds the order to feed.
            return Remedy.ADOPT_POSITION if at_startup else Remedy.ADOPT_FILLS
        case Cause.PHANTOM:
            return Remedy.ADOPT_POSITION
        case Cause.EXTERNAL:
            return Remedy.TRADE_BACK
        case Cause.UNKNOWN:
            return None


def target_after(remedy: Remedy, journal_qty: Decimal, venue_qty: Decimal) -> Decimal:
    """The position tradingd and the venue agree on once the correction is done."""
    return journal_qty if remedy is Remedy.TRADE_BACK else venue_qty


def expected_holding(remedy: Remedy, journal_qty: Decimal, venue_qty: Decimal) -> Decimal:
    """What the symbol's executor must hold for the correction to be right.

    Adopting fills moves the executor from tradingd's count to the venue's; the other two
    need an executor that already holds the venue's quantity (true at startup, where
    executors begin from the venue, and for a symbol whose executor starts later).
    """
    return journal_qty if remedy is Remedy.ADOPT_FILLS else venue_qty


def dispose(
    mode: Mode, remedy: Remedy | None, notional: Decimal | None, auto_limit: Decimal
) -> Disposal:
    """Report, queue for approval, or apply now. An unknown notional never counts as small."""
    if mode == "observe" or remedy is None:
        return Disposal.REPORT
    if mode == "auto" and notional is not None and notional <= auto_limit:
        return Disposal.APPLY
    return Disposal.QUEUE


def correction_signal_id(correction_id: int) -> str:
    """The id of a trade-back's signal: deterministic, so approving twice trades once."""
    return f"reconcile-correction-{correction_id}"


def notional_of(journal_qty: Decimal, venue_qty: Decimal, price: Decimal | None) -> Decimal | None:
    return abs(venue_qty - journal_qty) * price if price is not None else None
