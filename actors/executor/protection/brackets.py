"""Bracket exits: what guards a position an entry opened, and the orders that do it.

Pure: no trio, no I/O, no clock. The executor core owns one ``Protection`` per symbol (a
symbol has one position) and asks this module for the orders it needs:

- a native bracket's legs are orders the venue created for us; they are followed like our
  own (``request_of``), and their fills move the confirmed position;
- an entry that ended partly filled never armed its native legs (the venue cancels them with
  the parent): the filled part gets an exit pair of its own (``exit_request``), never more
  than the position, so an exit can never flip it;
- adding to a protected position (DCA) sends the new entry without legs, then replaces the
  exits with one pair for the whole position at the new levels: never two live take-profits;
- if an exit cannot be placed, the configured policy runs (``flatten_request`` or a halt).
"""

from __future__ import annotations

import enum
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

import attrs
import msgspec

from actors.ids import client_order_id_for
from actors.records import ProtectionMode, ProtectionPhase, ProtectionRecorded
from brokers.base import OrderRequest, OrderType, Side, TimeInForce

if TYPE_CHECKING:
    from datetime import datetime


class ProtectionFailurePolicy(enum.StrEnum):
    FLATTEN = "flatten"  # close the unprotected position at market
    HALT_SYMBOL = "halt_symbol"  # keep it, refuse new entries in the symbol until restart


@attrs.define
class Protection:
    """The exits guarding one symbol's position, and what they must become."""

    signal_id: str  # the signal that opened it: exit client ids derive from it
    exit_side: Side
    take_profit: Decimal | None
    stop_loss: Decimal | None
    entry: str  # client id of the entry being worked (the first one, or the latest DCA add)
    origin: str  # client id of the entry that opened it: its key in the journal
    native: bool  # the entry carries the exits as venue legs
    # Emulated for a venue without brackets: the take-profit rests at the venue, the stop
    # is held here and sent as a market order when the price reaches it.
    emulated: bool = False
    triggered: bool = False  # the held stop's price was reached
    avg_at_levels: Decimal = Decimal(0)  # the average the levels were set for
    filled: Decimal = Decimal(0)  # quantity the entries filled: the most the exits may cover
    exits: set[str] = attrs.field(factory=set)  # client ids of the exit orders (and legs)
    placed: str | None = None  # the exit pair tradingd placed itself, if any
    generation: int = 0  # how many times the exits were (re)placed: a fresh id each time
    entry_settled: bool = False
    rearm: bool = False  # the exits must be replaced to cover ``filled`` at the levels
    journaled_exits: tuple[str, ...] = ()  # the exits as last journaled
    # Entries still working besides ``entry`` (client id -> fills counted in ``filled``):
    # their fills join the exits as they come (``protection_entries``).
    followed: dict[str, Decimal] = attrs.field(factory=dict)

    @property
    def mode(self) -> ProtectionMode:
        if self.emulated:
            return ProtectionMode.EMULATED
        if self.native and self.placed is None:
            return ProtectionMode.NATIVE
        return ProtectionMode.OCO

    @property
    def holds_stop(self) -> bool:
        """The stop is held here, armed, for a position that has filled."""
        return (
            self.emulated and self.stop_loss is not None and not self.triggered and self.filled > 0
        )

    def stop_reached(self, price: Decimal) -> bool:
        if not self.holds_stop or self.stop_loss is None:
            return False
        if self.exit_side is Side.SELL:
            return price <= self.stop_loss
        return price >= self.stop_loss


def exit_request(protection: Protection, symbol: str, qty: Decimal) -> OrderRequest | None:
    """The exits for ``qty``: an oco pair when both levels are set, else the one exit; when
    emulated, the take-profit alone (the stop is held here), or nothing."""
    cid = client_order_id_for(protection.signal_id, f"exit{protection.generation}")
    side = protection.exit_side
    take_profit, stop_loss = protection.take_profit, protection.stop_loss
    if protection.emulated:
        stop_loss = None
        if take_profit is None:
            return None
    if take_profit is not None and stop_loss is not None:
        return OrderRequest(
            client_order_id=cid,
            symbol=symbol,
            side=side,
            qty=qty,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            limit_price=take_profit,
            take_profit=take_profit,
            stop_loss=stop_loss,
            order_class="oco",
        )
    if take_profit is not None:
        return OrderRequest(
            client_order_id=cid,
            symbol=symbol,
            side=side,
            qty=qty,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            limit_price=take_profit,
        )
    return OrderRequest(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        qty=qty,
        order_type=OrderType.STOP,
        time_in_force=TimeInForce.GTC,
        stop_price=stop_loss,
    )


def flatten_request(
    protection: Protection, symbol: str, position_qty: Decimal, leg: str = "flatten"
) -> OrderRequest:
    """A market order that closes ``position_qty`` (signed, non-zero)."""
    return OrderRequest(
        client_order_id=client_order_id_for(protection.signal_id, f"{leg}{protection.generation}"),
        symbol=symbol,
        side=Side.SELL if position_qty > 0 else Side.BUY,
        qty=abs(position_qty),
    )


def moved_levels(protection: Protection, new_avg: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """The levels kept at the same distance from the average, which moved to ``new_avg``."""
    shift = new_avg - protection.avg_at_levels

    def moved(level: Decimal | None) -> Decimal | None:
        return None if level is None else price_tick(level + shift)

    return moved(protection.take_profit), moved(protection.stop_loss)


def price_tick(price: Decimal) -> Decimal:
    """Round to a price the venue accepts: cents at $1 and above, 1/100 cent below."""
    step = Decimal("0.01") if price >= 1 else Decimal("0.0001")
    return price.quantize(step, rounding=ROUND_HALF_EVEN)


def covers(exit_side: Side, position_qty: Decimal) -> bool:
    """True when exits on ``exit_side`` reduce a position of ``position_qty``."""
    if position_qty == 0:
        return False
    return (position_qty > 0) == (exit_side is Side.SELL)


def protection_record(
    p: Protection, symbol: str, wall: datetime, phase: ProtectionPhase, state: str
) -> ProtectionRecorded:
    """The journal's word on ``p`` (a restart re-arms from the last one)."""
    p.journaled_exits = tuple(sorted(p.exits))
    return ProtectionRecorded(
        at=wall,
        entry_client_order_id=p.origin,
        symbol=symbol,
        mode=p.mode,
        take_profit=p.take_profit,
        stop_loss=p.stop_loss,
        phase=phase,
        state=state,
        signal_id=p.signal_id,
        exit_side=p.exit_side,
        qty=p.filled,
        exits=tuple(sorted(p.exits)),
        generation=p.generation,
    )


def without_exits(request: OrderRequest) -> OrderRequest:
    return msgspec.structs.replace(request, take_profit=None, stop_loss=None)
