"""What the protection's tending hands the executor core, and the failure policy. Pure.

``Tending`` is the answer to "what do the exits need now": orders to cancel, orders to send
(``Send``), journal records and alerts. When an exit the venue refuses leaves the position
unguarded, ``run_failure_policy`` says what follows: flatten, or halt the symbol.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from actors.executor.protection.brackets import (
    Protection,
    ProtectionFailurePolicy,
    covers,
    flatten_request,
)
from actors.executor.protection.exit_room import signed

if TYPE_CHECKING:
    from actors.order_state import TrackedOrder
    from actors.records import ProtectionRecorded
    from brokers.base import OrderRequest


@attrs.frozen
class Send:
    """An order the protection needs, sent without a signal of its own."""

    request: OrderRequest
    signal_id: str
    leg: str


@attrs.define
class Tending:
    cancels: list[TrackedOrder] = attrs.field(factory=list)
    sends: list[Send] = attrs.field(factory=list)
    records: list[ProtectionRecorded] = attrs.field(factory=list)
    alerts: list[str] = attrs.field(factory=list)


class PolicyRan(enum.Enum):
    """What the failure policy did; its value is the protection's last state."""

    FLATTENED = "failed: flattened"
    HALTED = "failed: halted"


def run_failure_policy(
    p: Protection,
    symbol: str,
    policy: ProtectionFailurePolicy,
    reason: str,
    position_qty: Decimal,
    room: Decimal,
    out: Tending,
) -> PolicyRan:
    """The exits could not be placed: flatten what the sales working leave (together they
    never sell more than is held), or halt the symbol."""
    if policy is ProtectionFailurePolicy.FLATTEN and covers(p.exit_side, position_qty):
        qty = signed(room, position_qty) if room > 0 else Decimal(0)
        if qty:
            out.sends.append(Send(flatten_request(p, symbol, qty), p.signal_id, "flatten"))
        what = f"flattening {qty}" if qty else "the sales working cover the position"
        ran = PolicyRan.FLATTENED
    else:
        what = "symbol halted: new entries refused"
        ran = PolicyRan.HALTED
    out.alerts.append(f"exits could not be placed ({reason}): {what}")
    return ran
