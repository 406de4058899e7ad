"""Entries whose fills a protection follows as they come, besides the one it settles. Pure.

An entry that rests (a limit order) works on after its signal is done, so a later entry can
go out while it still works, and it can go on filling after the position it opened is gone
(its exits filled, or its held stop fired). Its fills are the position's all the same: each
one joins what the exits cover (``Protection.filled``), so no share is left without exits
and none is covered twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actors.executor.protection.brackets import Protection
    from actors.executor.protection.exit_room import FindOrder


def follow(p: Protection, cid: str, counted: Decimal) -> None:
    """Follow ``cid``'s fills from now on; ``counted`` of them are in ``p.filled`` already."""
    p.followed[cid] = counted


def followed_fills(p: Protection, lookup: FindOrder) -> bool:
    """Count the followed entries' new fills into ``p.filled`` (True if any); an entry that
    has ended is no longer followed."""
    grew = False
    for cid, counted in sorted(p.followed.items()):
        order = lookup(cid)
        if order is None:
            continue  # in flight still: its venue answer comes
        if order.request.side is p.exit_side:
            del p.followed[cid]  # a sale: the exits cover what it leaves (``exit_room``)
            continue
        if order.filled_qty > counted:
            p.filled += order.filled_qty - counted
            p.followed[cid] = order.filled_qty
            grew = True
        if order.state.is_final:
            del p.followed[cid]
    return grew


def entries_working(p: Protection, lookup: FindOrder) -> dict[str, Decimal]:
    """The entries that may still fill, each with what it has filled so far."""
    cids = set(p.followed)
    if not p.entry_settled:
        cids.add(p.entry)
    working: dict[str, Decimal] = {}
    for cid in sorted(cids):
        order = lookup(cid)
        adds = order is not None and order.request.side is not p.exit_side
        if order is not None and adds and not order.state.is_final:
            working[cid] = order.filled_qty
    return working


def restart_for(p: Protection, working: dict[str, Decimal]) -> None:
    """The position ``p`` guarded is gone, but ``working`` entries may still fill: only
    their fills from here on are guarded, by exits placed afresh (ids go on counting)."""
    p.followed = dict(working)
    p.filled = Decimal(0)
    p.entry_settled = True
    p.native = False
    p.placed = None
    p.exits = set()
    p.rearm = False
    p.triggered = False
