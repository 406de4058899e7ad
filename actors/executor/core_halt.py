"""The kill switch at one symbol: its working entries end, the exits guarding its position
stay. Pure: the executor carries it out like any cancel of its own.

A halt denies new risk (RiskGuard) and takes back the risk still on its way in: every order
of this symbol that could add to the position. What only brings the position toward flat
stays: the exits of its bracket or of the pair placed for it (a position left without its
stop is risk the halt made), a close, a flip's to-flat leg. A bracket's legs go with their
entry (the venue cancels them with it). An entry still on its way to the venue (no venue
id yet) is canceled once it lands. Every cancel is journaled as the halt's, and alerted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from actors.executor.effects import Alert, Effect, reduces
from actors.order_state import State

if TYPE_CHECKING:
    from datetime import datetime

    from actors.executor.core_order_book import OrderBook
    from actors.executor.protection.keeper import ProtectionKeeper

# The journal's word for a cancel the kill switch asked for.
HALT_CANCEL = "canceled by halt: a working entry; the exits guarding the position stay"


def working_entries(book: OrderBook, keeper: ProtectionKeeper) -> frozenset[str]:
    """The orders still working that could add to the position (neither exits nor legs of
    a bracket, nor orders that only reduce it)."""
    guard = keeper.current
    exits = set(guard.exits) if guard is not None else set()
    position = book.position.qty
    return frozenset(
        o.client_order_id
        for o in book.unresolved()
        if o.client_order_id not in exits
        and o.client_order_id not in keeper.parent_of
        and not reduces(o.request, position)
    )


@attrs.define
class EntriesHalt:
    """The halt's cancels at one symbol, and the entries it waits on to land."""

    _landing: set[str] = attrs.field(factory=set)

    def start(
        self, book: OrderBook, keeper: ProtectionKeeper, wall: datetime, out: list[Effect]
    ) -> None:
        self._cancel(working_entries(book, keeper), book, wall, out)

    def tend(self, book: OrderBook, wall: datetime, out: list[Effect]) -> None:
        """Cancel what was still on its way when the halt came and has landed since."""
        if self._landing:
            self._cancel(frozenset(self._landing), book, wall, out)

    def _cancel(
        self, ids: frozenset[str], book: OrderBook, wall: datetime, out: list[Effect]
    ) -> None:
        self._landing = set()
        for cid in sorted(ids):
            order = book.live(cid)
            if order is None or order.state.is_final or order.state is State.PENDING_CANCEL:
                continue
            if not order.venue_order_id:
                self._landing.add(cid)
                continue
            book.cancel(order, wall, out, HALT_CANCEL)
            out.append(Alert(f"halt: canceling entry {cid}; exits guarding the position stay"))
