"""What the ``trade_updates`` stream makes of the core's events (pure).

The matching core changes orders at once. Alpaca often passes through a pending state first;
when asked to, the venue streams it too: ``pending_new`` before a submitted order's first
event, ``pending_cancel`` before a cancel the client asked for (not one the venue made
because a sibling filled, nor one the core already held pending for a while),
``pending_replace`` before ``replaced``. The ``reorder_events``
fault moves fills ahead of their ``new``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from brokers.sim.core.orders import SimEvent, SimOrder

if TYPE_CHECKING:
    from collections.abc import Callable


@attrs.frozen
class PendingStates:
    """Which pending states the stream shows."""

    new: bool = False
    cancel: bool = False
    replace: bool = False


def with_pending_states(
    events: list[SimEvent], pending: PendingStates, new_id: Callable[[], str]
) -> list[SimEvent]:
    """``events`` with the asked-for pending events in front of the ones they precede."""
    out: list[SimEvent] = []
    for event in events:
        order = event.order
        submitted = order.parent_id is None and order.replaces is None
        if pending.new and submitted and event.event in ("new", "rejected"):
            before = attrs.evolve(order, status="pending_new", failed_at=None)
            out.append(_pending("pending_new", event, before, new_id))
        elif (
            pending.cancel
            and event.event == "canceled"
            and not (event.sibling_cancel or event.pending_shown)
        ):
            before = attrs.evolve(order, status="pending_cancel", canceled_at=None)
            out.append(_pending("pending_cancel", event, before, new_id))
        elif pending.replace and event.event == "replaced":
            before = attrs.evolve(
                order, status="pending_replace", replaced_by=None, replaced_at=None
            )
            out.append(_pending("pending_replace", event, before, new_id))
        out.append(event)
    return out


def _pending(name: str, event: SimEvent, order: SimOrder, new_id: Callable[[], str]) -> SimEvent:
    return SimEvent(name, order, event.timestamp, new_id(), legs=event.legs)


def fills_first(events: list[SimEvent]) -> list[SimEvent]:
    """The batch with each order's fills moved ahead of its ``new`` (reorder_events)."""
    ordered = list(events)
    for event in events:
        if event.event not in ("fill", "partial_fill"):
            continue
        current = ordered.index(event)
        first = next(
            (i for i, e in enumerate(ordered) if e.event == "new" and e.order.id == event.order.id),
            None,
        )
        if first is not None and first < current:
            ordered.insert(first, ordered.pop(current))
    return ordered
