"""Reconciler: the daemon's picture of positions must equal the broker's.

At startup (the gate before any signal is accepted) it loads the venue's positions, account and
tradable assets (``actors.reconciler.startup_reads``), compares the positions with the
journal's, and reports every drift. The venue is the truth: executors start from the venue's
positions, never the journal's.

The Reconciler's running loop (drift checks, drift records, corrections, the operator's
commands) is ``actors.reconciler.task``; why a drift happened and what correcting it means is
``actors.reconciler.core_drift``; the queue of corrections is
``actors.reconciler.core_corrections``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from actors.flips import resume_goal
from actors.ids import leg_of
from actors.messages import OrderSeen, ResumeFlip, Signal
from actors.order_state import State, TrackedOrder
from actors.records import OrderFailure, OrderRefused, OrderStateRecorded
from brokers.base import (
    Account,
    Asset,
    OrderEvent,
    OrderRequest,
    OrderUpdate,
    Position,
    VenueOrder,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from actors.reconciler.core_in_flight import InFlight

ZERO = Decimal(0)


@attrs.frozen
class Drift:
    symbol: str
    journal_qty: Decimal
    venue_qty: Decimal

    def describe(self) -> str:
        if self.journal_qty == 0:
            cause = "position at the venue the journal does not know (external trade?)"
        elif self.venue_qty == 0:
            cause = "journal position the venue does not have (phantom position)"
        else:
            cause = "quantities differ (missed or external fill?)"
        return f"{self.symbol}: journal {self.journal_qty}, venue {self.venue_qty}: {cause}"


def compare_positions(journal: dict[str, Decimal], venue: dict[str, Decimal]) -> list[Drift]:
    """Every symbol whose quantities differ, in symbol order."""
    drifts = []
    for symbol in sorted(journal.keys() | venue.keys()):
        ours, theirs = journal.get(symbol, ZERO), venue.get(symbol, ZERO)
        if ours != theirs:
            drifts.append(Drift(symbol, ours, theirs))
    return drifts


@attrs.frozen
class PendingIntent:
    """An order the journal says was meant to go out and never seen final."""

    request: OrderRequest
    created_at: datetime


@attrs.frozen
class PendingFlip:
    """The flat leg of a signal across zero, journaled with no open leg after it."""

    signal: Signal
    request: OrderRequest
    created_at: datetime


@attrs.frozen
class IntentOutcome:
    """What startup learned of the journal's unfinished intents."""

    # Never reached the venue and young enough: sent now, with the same client id.
    resend: tuple[OrderRequest, ...] = ()
    # What the journal should record for the rest: the venue's final word, or "never sent".
    records: tuple[OrderStateRecorded, ...] = ()
    # Found at the venue still working (it opened after the open-orders read): adopt it.
    adopt: tuple[VenueOrder, ...] = ()
    # Orders across zero whose open leg was never journaled: it follows their flat leg.
    resume: tuple[ResumeFlip, ...] = ()
    # Why those of ``records`` that ended rejected did (never sent, or the venue's refusal).
    refusals: tuple[OrderRefused, ...] = ()


# An intent found unsent at startup is sent only if this recent: an old market order
# sent hours late would be a new trade nobody asked for.
RESEND_WINDOW = timedelta(seconds=60)
# Lookups by client id at startup, at most this many at once.
STARTUP_LOOKUPS = 8


@attrs.frozen
class StartupState:
    positions: dict[str, Position]
    # The venue's open orders by symbol: each executor adopts its symbol's, so their fills
    # after a restart move the position and a close still cancels them first.
    open_orders: dict[str, tuple[VenueOrder, ...]]
    account: Account
    assets: dict[str, Asset]  # every active asset the venue lists, tradable or not
    drifts: tuple[Drift, ...]
    intents: IntentOutcome = IntentOutcome()

    @property
    def tradable(self) -> frozenset[str]:
        return frozenset(s for s, a in self.assets.items() if a.tradable)

    def symbols_with_state(self) -> list[str]:
        resend = {r.symbol for r in self.intents.resend}
        resume = {r.symbol for r in self.intents.resume}
        return sorted(self.positions.keys() | self.open_orders.keys() | resend | resume)


# A difference seen the same on this many checks in a row is drift, whatever working orders
# could explain it each time: fills in flight land within moments, and one new order after
# another explaining the very same quantities check after check (a minute apart, by default)
# is a fill lost for good on a symbol that keeps trading, which must not hide forever.
IN_FLIGHT_CHECKS = 5


@attrs.define
class DriftWatch:
    """When to compare positions with the venue, and which differences are drift.

    A check follows every final order state (batched: one REST call after a quiet
    ``after_final`` spell covers every symbol that finished meanwhile) and runs every
    ``interval`` seconds regardless. A difference is reported only when seen on two
    checks in a row, so a fill still in flight between the venue's answer and ours is
    never called drift. One that orders working explain (``core_in_flight``) must also
    be explained by one same order on both checks: under a steady flow a position swings
    back and forth, and the same difference seen again through new orders is two fills in
    flight, while one order whose fill the venue shows and tradingd lacks check after
    check is a fill that went missing. Either way, the same difference on
    ``IN_FLIGHT_CHECKS`` checks in a row is drift: new orders explaining it every time
    must not hide a lost fill for as long as the symbol keeps trading.
    """

    interval: float = 60.0
    after_final: float = 2.0
    notional_tolerance: Decimal = Decimal(100)
    _next_check: float = 0.0
    _suspects: dict[str, Drift] = attrs.field(factory=dict)
    # The working orders that explained a suspect (absent: nothing working explained it).
    _explained_by: dict[str, frozenset[str]] = attrs.field(factory=dict)
    # How many checks in a row have seen each suspect just as it is now.
    _seen: dict[str, int] = attrs.field(factory=dict)
    reported: dict[str, Drift] = attrs.field(factory=dict)

    def on_update(self, seen: OrderSeen, now: float) -> None:
        if seen.final:
            self._next_check = min(self._next_check, now + self.after_final)

    def next_deadline(self) -> float:
        return self._next_check

    @property
    def suspects(self) -> dict[str, Drift]:
        """Differences beyond the tolerance seen on the last check (confirmed or not)."""
        return dict(self._suspects)

    def checked(self, now: float) -> None:
        self._next_check = now + self.interval

    def judge(
        self,
        ours: dict[str, Decimal],
        venue: dict[str, Position],
        prices: dict[str, Decimal],
        in_flight: Mapping[str, InFlight] | None = None,
    ) -> list[Drift]:
        """The drifts confirmed by this check (new ones only), beyond the tolerance; a
        difference ``in_flight`` explains (fills of orders working) is none of them."""
        found = {}
        explained_by: dict[str, frozenset[str]] = {}
        for drift in compare_positions(ours, {s: p.qty for s, p in venue.items()}):
            price = prices.get(drift.symbol)
            notional = abs(drift.venue_qty - drift.journal_qty) * price if price else None
            if notional is not None and notional <= self.notional_tolerance:
                continue
            found[drift.symbol] = drift
            flight = (in_flight or {}).get(drift.symbol)
            if flight is not None and flight.explains(drift.venue_qty):
                explained_by[drift.symbol] = flight.orders
        seen = {
            s: self._seen.get(s, 0) + 1 if self._suspects.get(s) == d else 1
            for s, d in found.items()
        }
        confirmed = [
            d
            for s, d in found.items()
            if seen[s] > 1 and (self._still(s, explained_by.get(s)) or seen[s] >= IN_FLIGHT_CHECKS)
        ]
        self._suspects, self._explained_by, self._seen = found, explained_by, seen
        new = [d for d in confirmed if self.reported.get(d.symbol) != d]
        self.reported = {d.symbol: d for d in confirmed}
        return new

    def in_flight(self, symbol: str) -> bool:
        """The symbol's difference on the last check was one fills in flight explain."""
        return symbol in self._explained_by and symbol not in self.reported

    def _still(self, symbol: str, orders: frozenset[str] | None) -> bool:
        """The same difference seen again is the same one: unless each check's is explained
        by different working orders (fills in flight, one after another)."""
        before = self._explained_by.get(symbol)
        return orders is None or before is None or bool(orders & before)


def decide_intents(
    intents: Sequence[PendingIntent], found: dict[str, VenueOrder | None], now: datetime
) -> IntentOutcome:
    """Pure: resend the young unsent intents, record the venue's word for the others."""
    resend: list[OrderRequest] = []
    records: list[OrderStateRecorded] = []
    refusals: list[OrderRefused] = []
    adopt: list[VenueOrder] = []
    for intent in intents:
        request = intent.request
        order = found.get(request.client_order_id)
        tracked = TrackedOrder(request)
        if order is not None and not order.status.is_final:
            adopt.append(order)
            continue
        if order is not None:
            tracked.apply(
                OrderUpdate(event=OrderEvent.SNAPSHOT, order=order, at=now, source="rest")
            )
        elif now - intent.created_at <= RESEND_WINDOW:
            resend.append(request)
            continue
        else:
            age = int((now - intent.created_at).total_seconds())
            tracked.move(State.SENDING)
            tracked.move(State.REJECTED, f"never reached the venue; found unsent {age}s later")
        if tracked.state is State.REJECTED:
            code = OrderFailure.VENUE_REJECTED if order is not None else OrderFailure.NOT_SENT
            detail = tracked.reason or "the venue reported the order rejected (rest)"
            refusals.append(
                OrderRefused(
                    at=now,
                    client_order_id=request.client_order_id,
                    symbol=request.symbol,
                    state="rejected",
                    signal_id=None,  # the intent's row has it
                    leg=leg_of(request.client_order_id),
                    side=request.side,
                    qty=request.qty or None,
                    code=str(code),
                    detail=detail,
                )
            )
        records.append(
            OrderStateRecorded(
                at=now,
                client_order_id=request.client_order_id,
                symbol=request.symbol,
                state=tracked.state.value,
                venue_order_id=tracked.venue_order_id,
                filled_qty=tracked.filled_qty,
                avg_fill_price=tracked.avg_fill_price,
                reason=tracked.reason or "resolved at startup",
            )
        )
    return IntentOutcome(
        resend=tuple(resend),
        records=tuple(records),
        adopt=tuple(adopt),
        refusals=tuple(refusals),
    )


def decide_resumes(flips: Sequence[PendingFlip], now: datetime) -> tuple[ResumeFlip, ...]:
    """Pure: the young interrupted signals across zero pick up where they stopped (an old one
    is left flat, as an old unsent intent is left unsent: a new trade nobody asked for)."""
    resume = []
    for flip in flips:
        goal = resume_goal(flip.signal, flip.request)
        if goal is None or now - flip.created_at > RESEND_WINDOW:
            continue
        resume.append(
            ResumeFlip(
                symbol=flip.request.symbol,
                signal=flip.signal,
                flat_leg=flip.request.client_order_id,
                goal=goal,
            )
        )
    return tuple(resume)
