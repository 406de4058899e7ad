"""What order a signal needs, from the broker-confirmed position alone. Pure.

A close is sized from the confirmed position (flat: no order, and the reason says so); a
target trades only the difference; a buy or sell is the entry the signal describes, its
exits riding along as the venue's bracket legs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import assert_never

from actors.executor_effects import client_order_id_for
from actors.messages import Action, Signal, order_side_for_delta
from actors.position import ConfirmedPosition
from brokers.base import OrderRequest, Side


def order_for(signal: Signal, symbol: str, position: ConfirmedPosition) -> OrderRequest | str:
    """The order a signal needs now, or the reason it needs none."""
    position_qty = position.qty
    match signal.action:
        case Action.CLOSE:
            close = position.close_order()
            if close is None:
                return "no order: position is flat"
            side, qty = close
            return _plain(signal, symbol, "close", side, qty)
        case Action.TARGET:
            assert signal.target_qty is not None
            delta = signal.target_qty - position_qty
            if delta == 0:
                return f"no order: position is already {position_qty}"
            return _plain(signal, symbol, "target", order_side_for_delta(delta), abs(delta))
        case Action.BUY | Action.SELL:
            assert signal.qty is not None
            return OrderRequest(
                client_order_id=client_order_id_for(signal.id, "entry"),
                symbol=symbol,
                side=Side.BUY if signal.action is Action.BUY else Side.SELL,
                qty=signal.qty,
                order_type=signal.order_type,
                time_in_force=signal.time_in_force,
                limit_price=signal.limit_price,
                stop_price=signal.stop_price,
                take_profit=signal.take_profit,
                stop_loss=signal.stop_loss,
            )
        case Action.REBALANCE:
            raise AssertionError("the router expands a rebalance into targets")
        case _:
            assert_never(signal.action)


def _plain(signal: Signal, symbol: str, leg: str, side: Side, qty: Decimal) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id_for(signal.id, leg),
        symbol=symbol,
        side=side,
        qty=qty,
        time_in_force=signal.time_in_force,
    )
