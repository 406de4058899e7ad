"""Orders across zero: the vocabulary the executor, which sends their two legs, shares with
the Reconciler, which resumes one a restart interrupted between them. Pure.

How the executor splits such an order is ``actors.executor.core_flip``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.ids import client_order_id_for
from actors.messages import Action, Signal
from brokers.base import OrderRequest, Side

if TYPE_CHECKING:
    from decimal import Decimal

# The leg that brings the position to zero, and the one that opens the new side after it.
FLAT_LEG = "flat"
OPEN_LEG = "open"
# Every leg a buy, sell or target may send: which one depends on the position then.
SIGNAL_LEGS = ("entry", FLAT_LEG, OPEN_LEG, "target", "close")


def signed_qty(side: Side, qty: Decimal) -> Decimal:
    return qty if side is Side.BUY else -qty


def resume_goal(signal: Signal, flat: OrderRequest) -> Decimal | None:
    """Where a signal interrupted after its ``flat`` leg ends: the position before that leg
    was exactly what it took back to zero. None when ``flat`` is not the signal's flat leg."""
    if flat.client_order_id != client_order_id_for(signal.id, FLAT_LEG):
        return None
    before = -signed_qty(flat.side, flat.qty)
    match signal.action:
        case Action.TARGET if signal.target_qty is not None:
            goal = signal.target_qty
        case Action.BUY | Action.SELL if signal.qty is not None:
            side = Side.BUY if signal.action is Action.BUY else Side.SELL
            goal = before + signed_qty(side, signal.qty)
        case _:
            return None
    return goal if goal * before < 0 else None
