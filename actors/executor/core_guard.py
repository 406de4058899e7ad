"""What the exits' keeper decided, carried out on the order book. Pure.

After every input the executor asks its ``ProtectionKeeper`` what the position's exits need
(``tend``); the answer's cancels and sends go out here like any of the executor's own
orders, journaled first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.executor.effects import Alert, Effect, ExitSent, RecordInJournal, Submit
from actors.executor.protection.brackets import Protection, covers
from actors.order_state import State, TrackedOrder
from actors.records import IntentRecorded

if TYPE_CHECKING:
    from datetime import datetime

    from actors.executor.core_order_book import OrderBook
    from actors.executor.protection.outcomes import Tending


def resting_exit(protection: Protection | None, book: OrderBook, order: TrackedOrder) -> bool:
    """An exit resting at the venue as the position's guard: not pending work."""
    if protection is None or not covers(protection.exit_side, book.position.qty):
        return False  # an exit of a position already gone must still end
    return order.client_order_id in protection.exits and order.state in (
        State.ACCEPTED,
        State.PARTIALLY_FILLED,
    )


def carry_out(tending: Tending, book: OrderBook, wall: datetime, out: list[Effect]) -> None:
    """The exits to cancel, the records and alerts, then the exits to send (never twice)."""
    for order in tending.cancels:
        if order.state is not State.PENDING_CANCEL and order.venue_order_id:
            book.cancel(order, wall, out)
    if tending.records:
        out.append(RecordInJournal(tuple(tending.records)))
    out.extend(Alert(message) for message in tending.alerts)
    for send in tending.sends:
        request = send.request
        if book.order(request.client_order_id) is not None:
            continue
        sending = book.send(book.track(request), wall)
        intent = IntentRecorded(at=wall, signal_id=send.signal_id, leg=send.leg, request=request)
        out.append(RecordInJournal((intent, sending)))
        # Not paced: an exit left waiting leaves a fill naked. It takes its place in the
        # order-rate window all the same, ahead of every entry waiting there.
        out.append(ExitSent(request.client_order_id))
        out.append(Submit.of(request, book.position.qty))
