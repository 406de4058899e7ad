"""Keeps one symbol's position guarded by its exits: the executor core's bracket half.

Pure. The core tells it which entries went out and asks it, after every input, what the
exits need (``tend``); it answers with orders to cancel and orders to send, which the core
carries out like any of its own. Its rules:

- a native bracket's legs are the exits while the entry fills completely;
- an entry that ended partly filled gets an exit pair for the filled part only;
- a DCA add replaces the exits with one pair for the whole position, at the new levels;
- exits never cover more than the position, so no exit can flip it: a sale out of the
  position (the exits' side) has the exits canceled first, and they are placed again for
  what it leaves once it is sent (or ended: filled, refused, denied); exits, a fired stop
  and a flatten only ever cover what the orders working on their side leave
  (``exit_room``), and grow back when such a sale ends unfilled; an exit left working
  on a flat position is canceled;
- when the venue has closed the position (an exit filled), the protection ends: a later
  close finds the position flat and sends nothing;
- an exit the venue refuses runs the failure policy: flatten, or halt the symbol;
- emulated (a venue without brackets): entries go alone, a take-profit follows their fills,
  and the stop is held here: the first trade at or through it cancels the take-profit and
  sends a market order for the position.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, assert_never

import attrs

from actors.executor.protection.brackets import (
    Protection,
    ProtectionFailurePolicy,
    covers,
    exit_request,
    flatten_request,
    protection_record,
    without_exits,
)
from actors.executor.protection.entries import entries_working, follow, followed_fills, restart_for
from actors.executor.protection.exit_room import (
    FindOrder,
    canceled_by_someone_else,
    exits_exceed,
    exits_fall_short,
    selling_qty,
    sibling_filled,
    signed,
    venue_cancels,
)
from actors.executor.protection.outcomes import PolicyRan, Send, Tending, run_failure_policy
from actors.executor.protection.settle import Settled, settle_entry
from actors.messages import Action, Signal
from actors.order_state import State, TrackedOrder
from actors.records import ProtectionMode, ProtectionPhase, ProtectionRecorded
from brokers.base import OrderRequest, Side

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from actors.position import ConfirmedPosition


@attrs.define
class ProtectionKeeper:
    symbol: str
    policy: ProtectionFailurePolicy = ProtectionFailurePolicy.FLATTEN
    current: Protection | None = None
    # Why new entries are refused (the halt_symbol policy ran), or None.
    halted: str | None = None
    # leg client id -> its parent's: the venue cancels a parent's legs with it.
    parent_of: dict[str, str] = attrs.field(factory=dict)
    # Emulate brackets (a venue without them): entries go without legs, the exits follow.
    emulate: bool = False
    # DCA: the levels the add asked for, if it named any.
    _next_levels: tuple[Decimal | None, Decimal | None] | None = None
    # The exits a close or a target dropped, until its order trades: placed again if it
    # never does (denied, refused), so the position is not left without its stop.
    _dropped: Protection | None = None

    @property
    def pending(self) -> bool:
        """The exits are being replaced, or the held stop fired: work under way."""
        p = self.current
        return p is not None and (p.rearm or p.triggered)

    @property
    def holds_stop(self) -> bool:
        """A stop is held here: the shell must feed prices in (``price_seen``)."""
        return self.current is not None and self.current.holds_stop

    def exits_in_the_way(self, signal: Signal, position_qty: Decimal) -> set[str]:
        """The exits a buy/sell on their own side must wait for (they hold the shares)."""
        p = self.current
        if p is None or signal.action not in (Action.BUY, Action.SELL):
            return set()
        side = Side.BUY if signal.action is Action.BUY else Side.SELL
        if side is not p.exit_side or not covers(p.exit_side, position_qty):
            return set()
        return set(p.exits)

    def making_way_for_a_sale(self) -> None:
        """The exits in a sale's way are being canceled: they are placed again, for what
        the sale leaves, once it has ended (filled, refused or denied alike)."""
        if self.current is not None:
            self.current.rearm = True

    def entry_request(self, request: OrderRequest, position_qty: Decimal) -> OrderRequest:
        """The entry to send: an add to a protected position goes without legs of its own,
        since its exits will be one pair for the whole position (never two take-profits);
        so does every entry when brackets are emulated."""
        if self.emulate:
            return without_exits(request)
        if position_qty != 0 and (position_qty > 0) != (request.side is Side.BUY):
            # It reduces (or flips) the position: native legs would cover the whole entry,
            # more than what it leaves. Exits for what is left follow once it is final.
            return without_exits(request)
        p = self.current
        if p is None:
            return request
        if request.side is p.exit_side:
            # Against a guarded position, or one an entry resting may still open: legs of
            # its own would be a second set, on the other side, that the protection never
            # sees (they could outlive both and open a position).
            return request if p.entry_settled and not p.followed else without_exits(request)
        if covers(p.exit_side, position_qty) or not p.entry_settled or p.followed:
            # Also an add while an earlier entry rests unfilled: one pair covers both.
            return without_exits(request)
        return request

    def entry_sent(
        self, signal_id: str, request: OrderRequest, levels: tuple[Decimal | None, Decimal | None]
    ) -> None:
        """An entry (buy/sell) was approved and goes out now."""
        p = self.current
        take_profit, stop_loss = levels
        wants_exits = take_profit is not None or stop_loss is not None
        if p is not None and not p.entry_settled:
            if request.side is p.exit_side:
                return  # a sale beside a resting entry: the exits cover what it leaves
            # An add while the entry before it rests (a limit order): that one's fills are
            # followed as they come, and one pair covers both (a native entry's legs are
            # replaced by it).
            follow(p, p.entry, p.filled if p.emulated and p.entry == p.origin else Decimal(0))
        if p is not None:
            # An add (DCA) or a reduction: the exits are redone once it is final.
            p.entry, p.native, p.entry_settled = request.client_order_id, False, False
            self._next_levels = levels if wants_exits else None
            return
        if not wants_exits:
            return
        self.current = Protection(
            signal_id=signal_id,
            exit_side=request.side.opposite(),
            take_profit=take_profit,
            stop_loss=stop_loss,
            entry=request.client_order_id,
            origin=request.client_order_id,
            native=request.take_profit is not None or request.stop_loss is not None,
            emulated=self.emulate,
        )

    def price_seen(self, price: Decimal) -> None:
        """A trade price: the held stop fires once the price reaches it."""
        if self.current is not None and self.current.stop_reached(price):
            self.current.triggered = True

    def restore(self, record: ProtectionRecorded) -> None:
        """Re-arm what guarded the position when the last run ended (its exit orders were
        adopted from the venue; a held stop is held again)."""
        exits = set(record.exits)
        self.current = Protection(
            signal_id=record.signal_id,
            exit_side=record.exit_side,
            take_profit=record.take_profit,
            stop_loss=record.stop_loss,
            entry=record.entry_client_order_id,
            origin=record.entry_client_order_id,
            native=record.mode is ProtectionMode.NATIVE,
            emulated=record.mode is ProtectionMode.EMULATED,
            filled=record.qty,
            exits=exits,
            placed=min(exits) if exits and record.mode is not ProtectionMode.NATIVE else None,
            generation=record.generation,
            entry_settled=True,
        )

    def leg_learned(self, parent: str, leg: str) -> None:
        self.parent_of[leg] = parent
        p = self.current
        if p is not None and (parent == p.entry or parent in p.exits):
            p.exits.add(leg)

    def drop(self, wall: datetime, why: str) -> list[ProtectionRecorded]:
        """The position is being closed or retargeted: its exits are canceled with it."""
        p, self.current = self.current, None
        self._dropped = p
        return [] if p is None else [self._record(p, wall, ProtectionPhase.ENDED, why)]

    def take_back(self, position_qty: Decimal) -> bool:
        """The close or target that dropped the exits ended without trading: the exits are
        redone for the position still there (tending places them); True if they will be."""
        p, self._dropped = self._dropped, None
        if p is None or self.current is not None or not covers(p.exit_side, position_qty):
            return False
        p.rearm, p.triggered = True, False
        self.current = p
        return True

    def forget_dropped(self) -> None:
        """The close or target that dropped the exits traded: they stay dropped."""
        self._dropped = None

    def tend(
        self,
        lookup: FindOrder,
        position: ConfirmedPosition,
        wall: datetime,
        working: Iterable[TrackedOrder],
        sale_side: Side | None,
    ) -> Tending:
        """What the exits need now, phase by phase: what changed, the entry, a refusal, a
        position gone, exits standing, exits redone.

        ``working``: the executor's orders not yet final; those on the exits' side that
        are not exits (a sale resting, one just sent) may take shares, and the exits only
        cover what they leave. ``sale_side``: the side of the signal being worked, if any;
        a sale out of the position not yet sent holds new exits back until it is.
        """
        out = Tending()
        p = self.current
        if p is None:
            return out
        room = self._room_left(p, lookup, position, working)
        if not self._entry_tended(p, lookup, position, wall, out):
            return out
        placed = lookup(p.placed) if p.placed is not None else None
        if placed is not None and placed.state is State.REJECTED:
            self._failed(p, placed.reason or "refused", position, room, wall, out)
            return out
        live = [o for cid in sorted(p.exits) if (o := lookup(cid)) and not o.state.is_final]
        if not covers(p.exit_side, position.qty):
            self._unguarded(p, live, position, lookup, wall, out)
        elif not (p.rearm or p.triggered):
            self._standing(p, live, lookup, wall, out)
        elif sale_side is not p.exit_side or live:
            # Cancel first, arm after: new exits wait for a sale not yet sent (its size is
            # not known), and cover only what the sales already working leave.
            self._redo(p, live, room, position, lookup, wall, out)
        return out

    def _room_left(
        self,
        p: Protection,
        lookup: FindOrder,
        position: ConfirmedPosition,
        working: Iterable[TrackedOrder],
    ) -> Decimal:
        """What the exits may cover (the position less the sales working on their side);
        exits that no longer match it, or an entry's fills they do not cover yet, have
        them redone."""
        selling = selling_qty(p, working, self.parent_of)
        room = abs(position.qty) - selling if covers(p.exit_side, position.qty) else Decimal(0)
        if exits_exceed(p, room, lookup, self.parent_of) or exits_fall_short(p, room, lookup):
            # Another order took (or may take) part of the position, or no longer may: the
            # exits are redone for what is left.
            p.rearm = True
        if followed_fills(p, lookup):
            p.rearm = True
        return room

    def _entry_tended(
        self,
        p: Protection,
        lookup: FindOrder,
        position: ConfirmedPosition,
        wall: datetime,
        out: Tending,
    ) -> bool:
        """Fold in the entry not yet settled; False when tending stops here (the entry is
        unknown, still resting with nothing to redo, or its end ended the protection)."""
        if p.entry_settled:
            return True
        entry = lookup(p.entry)
        if entry is None:
            return False
        if p.emulated and entry.client_order_id == p.origin and entry.filled_qty > p.filled:
            # Emulated: the exits follow the entry's fills as they arrive.
            p.filled, p.rearm = entry.filled_qty, True
        if entry.state.is_final:
            exits_working = any(
                not o.state.is_final for cid in p.exits if (o := lookup(cid)) is not None
            )
            self._settle(p, entry, position, wall, out, exits_working)
            return self.current is not None
        # A held stop fires even while an entry or a sale rests.
        return p.rearm or p.triggered

    def _unguarded(
        self,
        p: Protection,
        live: list[TrackedOrder],
        position: ConfirmedPosition,
        lookup: FindOrder,
        wall: datetime,
        out: Tending,
    ) -> None:
        """Nothing left to guard. When an exit filled, the venue's one-cancels-other ends its
        siblings (their cancel events, or the monitor's lookups, make that final here); any
        other exit still working would open a position: it is canceled."""
        if not live:
            self._end(p, wall, "done", lookup, out)
            return
        for order in live:
            if order.state is State.PENDING_CANCEL:
                continue
            if position.qty != 0 or not sibling_filled(p, order, lookup):
                out.cancels.append(order)

    def _standing(
        self,
        p: Protection,
        live: list[TrackedOrder],
        lookup: FindOrder,
        wall: datetime,
        out: Tending,
    ) -> None:
        """The exits stand as they are, unless someone else canceled them; legs learned
        since they were journaled are journaled now."""
        if canceled_by_someone_else(p, lookup):
            # Nobody here asked for it (an operator, at the venue): they may mean it, so
            # nothing replaces it; its siblings go too (never exits for part of it).
            out.cancels += [o for o in live if o.state is not State.PENDING_CANCEL]
            self.current = None
            out.alerts.append(
                f"{self.symbol}: exits canceled at the venue, not by tradingd: not replaced; "
                "the position is unguarded"
            )
            ended = "canceled at the venue: not replaced"
            out.records.append(self._record(p, wall, ProtectionPhase.ENDED, ended))
        elif p.entry_settled and tuple(sorted(p.exits)) != p.journaled_exits:
            # Legs learned after the entry settled: the journal must name them, so a
            # restart finds them.
            out.records.append(self._record(p, wall, ProtectionPhase.ARMED, "armed"))

    def _redo(
        self,
        p: Protection,
        live: list[TrackedOrder],
        room: Decimal,
        position: ConfirmedPosition,
        lookup: FindOrder,
        wall: datetime,
        out: Tending,
    ) -> None:
        """The exits are redone (or the held stop fired): the working ones end first, then
        the stop's market order or a new pair goes out, for ``room``."""
        if live:
            live_ids = {o.client_order_id for o in live}
            for order in live:
                if not venue_cancels(order, live_ids, lookup, self.parent_of):
                    out.cancels.append(order)
            return
        if p.triggered:
            # The held stop fired and the take-profit is gone: the stop's market order, for
            # what the sales working leave.
            if room > 0:
                stop = flatten_request(p, self.symbol, signed(room, position.qty), leg="stop")
                out.sends.append(Send(stop, p.signal_id, f"stop{p.generation}"))
            self._end(p, wall, f"stopped at {p.stop_loss}", lookup, out)
            return
        qty = min(p.filled, room)
        if qty <= 0:
            return  # nothing filled yet to guard: the exits wait for the entry's fills
        p.generation += 1
        p.rearm, p.exits = False, set()
        exits = exit_request(p, self.symbol, qty)
        if exits is not None:
            p.placed, p.exits = exits.client_order_id, {exits.client_order_id}
            out.sends.append(Send(exits, p.signal_id, f"exit{p.generation}"))
        out.records.append(self._record(p, wall, ProtectionPhase.ARMED, f"armed for {qty}"))

    def _settle(
        self,
        p: Protection,
        entry: TrackedOrder,
        position: ConfirmedPosition,
        wall: datetime,
        out: Tending,
        exits_working: bool,
    ) -> None:
        settled = settle_entry(p, entry, position.avg_entry_price, exits_working, self._next_levels)
        if settled is not Settled.ARMED:
            self._next_levels = None  # an add's levels are used once, when it settles
        if settled is Settled.UNFILLED:
            self.current = None
        match settled:
            case Settled.GOES_ON:
                pass
            case Settled.ARMED:
                out.records.append(self._record(p, wall, ProtectionPhase.ARMED, settled.value))
            case Settled.UNFILLED:
                out.records.append(self._record(p, wall, ProtectionPhase.ENDED, settled.value))
            case _:
                assert_never(settled)

    def _end(
        self, p: Protection, wall: datetime, why: str, lookup: FindOrder, out: Tending
    ) -> None:
        """The position ``p`` guarded is gone: the protection ends, unless an entry may still
        fill (a limit resting on): then it guards those fills from here on."""
        out.records.append(self._record(p, wall, ProtectionPhase.ENDED, why))
        working = entries_working(p, lookup)
        if not working:
            self.current = None
            return
        restart_for(p, working)
        waiting = "waiting for the entries still working"
        out.records.append(self._record(p, wall, ProtectionPhase.WAITING, waiting))

    def _failed(
        self,
        p: Protection,
        reason: str,
        position: ConfirmedPosition,
        room: Decimal,
        wall: datetime,
        out: Tending,
    ) -> None:
        self.current = None
        ran = run_failure_policy(p, self.symbol, self.policy, reason, position.qty, room, out)
        if ran is PolicyRan.HALTED:
            self.halted = f"exits could not be placed ({reason})"
        out.records.append(self._record(p, wall, ProtectionPhase.ENDED, ran.value))

    def _record(
        self, p: Protection, wall: datetime, phase: ProtectionPhase, state: str
    ) -> ProtectionRecorded:
        return protection_record(p, self.symbol, wall, phase, state)
