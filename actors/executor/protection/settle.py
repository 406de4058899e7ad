"""What an entry's end means for the exits guarding its position. Pure.

The ``ProtectionKeeper`` settles each entry it sent once the entry is final: its fills join
what the exits cover, the levels follow a DCA add's new average, and the exits are redone
for the whole position, unless the venue armed a native bracket's legs for it already.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from actors.executor.protection.brackets import Protection, moved_levels

if TYPE_CHECKING:
    from decimal import Decimal

    from actors.order_state import TrackedOrder


class Settled(enum.Enum):
    GOES_ON = "goes on"  # the exits follow (redone if they must)
    ARMED = "armed"  # the venue armed the native legs for the whole entry: journal them
    UNFILLED = "entry unfilled"  # nothing filled and nothing guarded: the protection ends


def settle_entry(
    p: Protection,
    entry: TrackedOrder,
    avg_price: Decimal,
    exits_working: bool,
    next_levels: tuple[Decimal | None, Decimal | None] | None,
) -> Settled:
    """Fold the final ``entry`` into ``p``; ``avg_price``: the position's average now,
    ``next_levels``: the levels an add asked for, if any."""
    p.entry_settled = True
    filled = entry.filled_qty
    adding = entry.request.side is not p.exit_side
    if p.emulated and entry.client_order_id == p.origin:
        # Its fills were followed as they came; an entry that filled nothing ends it.
        p.avg_at_levels = avg_price
        return Settled.UNFILLED if filled == 0 else Settled.GOES_ON
    if filled == 0:
        if not p.exits and not p.filled and not p.followed:
            return Settled.UNFILLED  # the protection never began
        return Settled.GOES_ON
    if adding:
        p.filled += filled
    if p.native and p.placed is None and filled == entry.request.qty and p.avg_at_levels == 0:
        # The venue armed its legs for the whole entry.
        p.avg_at_levels = avg_price
        return Settled.ARMED
    if adding and p.avg_at_levels != 0:
        # DCA: the levels follow the new average (or take the add's own levels).
        p.take_profit, p.stop_loss = next_levels or moved_levels(p, avg_price)
    p.avg_at_levels = avg_price
    # A sale leaves the exits placed beside it (sized for what it leaves) as they are.
    p.rearm = p.rearm or adding or not exits_working
    return Settled.GOES_ON
