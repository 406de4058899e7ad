"""What a signal's turn comes to: an answer without an order, or an order to ask RiskGuard
about. Pure: the executor carries the plan out.

A halted symbol takes only closes; an order across zero goes out as its to-zero leg first
(``core_flip``), unless it is a resting order, which is refused instead; the entry goes
without legs of its own where the exits' keeper says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from actors.executor.core_flip import refusal_to_split, splits, to_zero_leg
from actors.executor.core_signals import Job, order_for
from actors.flips import signed_qty
from actors.messages import AckStatus, Action

if TYPE_CHECKING:
    from decimal import Decimal

    from actors.executor.protection.keeper import ProtectionKeeper
    from actors.position import ConfirmedPosition
    from brokers.base import OrderRequest


@attrs.frozen
class Answer:
    """The signal is answered now, no order sent; ``finish``: its work is over, journaled."""

    status: AckStatus
    reason: str
    finish: bool


@attrs.frozen
class AskFor:
    """The order to ask RiskGuard about; ``sized``: RiskGuard sizes it (no qty in the
    signal); ``goal``: where an order across zero ends, once its to-zero leg is final."""

    request: OrderRequest
    sized: bool
    goal: Decimal | None = None


def plan_order(
    job: Job, symbol: str, position: ConfirmedPosition, keeper: ProtectionKeeper
) -> Answer | AskFor:
    """The plan for ``job``'s signal against the confirmed ``position`` now."""
    signal = job.signal
    if keeper.halted is not None and signal.action is not Action.CLOSE:
        reason = f"symbol halted: {keeper.halted}; only close is accepted"
        return Answer("rejected", reason, finish=True)
    request = order_for(signal, symbol, position)
    if isinstance(request, str):
        return Answer("accepted", request, finish=True)
    goal = None
    if splits(signal, position.qty, request):
        refusal = refusal_to_split(request)
        if refusal is not None:
            return Answer("rejected", refusal, finish=False)
        goal = position.qty + signed_qty(request.side, request.qty)
        request = to_zero_leg(request, position.qty, signal.id)
    request = keeper.entry_request(request, position.qty)
    sized = signal.qty is None and signal.action in (Action.BUY, Action.SELL)
    return AskFor(request, sized, goal)
