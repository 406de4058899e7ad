"""RiskGuard's decisions: the single owner of account-level risk state.

Every order is valued at its worst case before it leaves; the approval reserves that much
buying power under the order's client id, and fills, cancels and rejections shrink or release
the reservation. Concurrent orders across symbols therefore can never overspend: the check is
``cost <= buying_power - reserved`` against one ledger, decided in one task (incident 003).

A risk-reducing order needs no buying power and is never blocked by a limit meant for new risk
(sizes, exposure, a halt, the runaway breaker, a down order stream), so a halt can always
flatten; only a daily-loss latch in ``halted`` mode stops it too. The order-rate caps refuse
nothing: they pace every order, risk-reducing ones first (``core_pacing``). A buy or sell
without a quantity is sized here (``actors.risk.core_sizing``), and the size approved is the
size sent. The halt, the latch and the trading day are handed out as a journal record whenever
they change, and restored from it at startup. Pure: no I/O, and the time is always passed in.
"""

from __future__ import annotations

from decimal import Decimal, DecimalException
from typing import TYPE_CHECKING, assert_never

import attrs
import msgspec

from actors.messages import Approved, Denied, RiskDecision, RiskRequest
from actors.records import RiskStateRecorded
from actors.risk.core_account_read import AccountRead, AccountReads
from actors.risk.core_controls import (
    OrderFlow,
    Refusal,
    check_collar,
    check_order_size,
    check_qty,
)
from actors.risk.core_daily import DailyLoss, DailyState
from actors.risk.core_exposure import ExposureBook
from actors.risk.core_pacing import OrderPacer, Parked
from actors.risk.core_reservations import Reservation, opening_qty
from actors.risk.core_sizing import size_request
from actors.signal_bounds import (
    DECIMAL_TRAP_CODE,
    bounded_reason,
    decimal_failure,
    quote,
    trapping_decimals,
)
from brokers.base import (
    Account,
    Asset,
    MarketClock,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
)

if TYPE_CHECKING:
    # Types only: actors.prices imports this package's volatility estimate.
    from collections.abc import Mapping
    from datetime import datetime

    from actors.prices import PriceBook
    from actors.risk.limits import LatchMode, RiskLimits

ZERO = Decimal(0)


@attrs.define
class RiskGuardCore:
    limits: RiskLimits
    prices: PriceBook
    assets: Mapping[str, Asset] = attrs.field(factory=dict)
    _buying_power: Decimal | None = None
    _equity: Decimal | None = None
    _account_at: float | None = None
    # Account reads in flight, and what landed while each was answered.
    _reads: AccountReads = attrs.field(factory=AccountReads)
    _reservations: dict[str, Reservation] = attrs.field(factory=dict)
    _halted: bool = False
    # Until told otherwise by OrderMonitor (the supervisor starts it False).
    _stream_healthy: bool = True
    # The persisted state last handed out, to hand out only changes.
    _persisted: RiskStateRecorded | None = None
    # Set when the venue refused an order: the next account read must not wait.
    wants_refresh: bool = False
    _flow: OrderFlow = attrs.field(init=False)
    _pacer: OrderPacer[RiskRequest] = attrs.field(factory=OrderPacer, init=False)
    _exposure: ExposureBook = attrs.field(init=False)
    _daily: DailyLoss = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._flow = OrderFlow(self.limits)
        self._exposure = ExposureBook(self.limits, self.prices)
        self._daily = DailyLoss(self.limits)

    # --- state fed in -----------------------------------------------------------------

    def load_positions(self, positions: Mapping[str, Decimal]) -> None:
        self._exposure.load(positions)

    def begin_account_read(self) -> AccountRead:
        """An account read is being asked for: the events from now on are kept for it."""
        return self._reads.begin()

    def account_read_failed(self, read: AccountRead) -> None:
        self._reads.end(read)

    def set_limits(self, limits: RiskLimits) -> None:
        """New limits (a config reload): every later decision uses them; reservations,
        positions, the latch and the order history carry over."""
        self.limits = limits
        self._flow.limits = limits
        self._exposure.set_limits(limits)
        self._daily.limits = limits

    def set_stream_health(self, healthy: bool) -> None:
        self._stream_healthy = healthy

    def set_clock(self, clock: MarketClock) -> None:
        self._daily.clock = clock

    def needs_clock(self, wall: datetime) -> bool:
        """The trading day comes from the venue's clock, and the one held has run out."""
        return self._daily.needs_clock(wall)

    def restore(self, state: RiskStateRecorded) -> None:
        """Take back what the journal held at startup: the halt and the daily state."""
        self._halted = state.halted
        self._daily.restore(DailyState.from_record(state))
        self._pacer.breaker.restore(state.runaway)
        self._persisted = state

    def state_record(self, wall: datetime) -> RiskStateRecorded | None:
        """The state to journal, if it changed since the last one handed out."""
        daily = self._daily.state
        record = RiskStateRecorded(
            at=wall,
            halted=self._halted,
            latched=daily.latched,
            trading_day=daily.day,
            start_equity=daily.start_equity,
            runaway=self._pacer.breaker.tripped,
        )
        last = self._persisted
        if last is not None and msgspec.structs.replace(last, at=wall) == record:
            return None
        self._persisted = record
        return record

    def set_account(
        self, account: Account, now: float, wall: datetime, *, read: AccountRead | None = None
    ) -> LatchMode | None:
        """Take a venue snapshot; ``read``: begun with ``begin_account_read``, so what landed
        while it was read is corrected for (``core_account_read``: never overstating buying
        power). Returns the daily-loss latch if this sets it."""
        touched: set[str] = set()
        charged = ZERO
        if read is not None:
            self._reads.end(read)
            touched, charged = read.touched, read.charged
        # The venue holds a resting limit order at its limit, as the reservation does: give
        # it back here or it would count twice. Market and stop orders may cost more than
        # the venue holds for them, so theirs is never given back (counted twice instead).
        # Nor is the hold of an order that had an event during the read: whether the
        # snapshot holds it is unknown, and giving back a hold it lacks would overstate.
        held = sum(
            (
                r.remaining
                for cid, r in self._reservations.items()
                if r.at_venue and r.priced and cid not in touched
            ),
            ZERO,
        )
        self._buying_power, self._equity, self._account_at = (
            account.buying_power + held - charged,
            account.equity,
            now,
        )
        self.wants_refresh = False
        day = self._daily.trading_day(wall)
        if day is None:
            return None  # no venue clock yet: the day is unknown, so is its loss
        return self._daily.observe(account.equity, day, account.last_equity)

    def revalue(self) -> None:
        """Mark every held position at its latest price (a decision would do it anyway;
        done ahead, in idle time, it is off the decision's path)."""
        self._exposure.catch_up()

    def halt(self) -> None:
        self._halted = True

    def resume(self) -> None:
        self._halted = False
        self._daily.resume(self._equity)
        self._pacer.breaker.reset()

    # --- views ------------------------------------------------------------------------

    @property
    def reserved(self) -> Decimal:
        return sum((r.remaining for r in self._reservations.values()), ZERO)

    @property
    def buying_power(self) -> Decimal | None:
        return self._buying_power

    @property
    def equity(self) -> Decimal | None:
        """The account's equity as last read from the venue (None before the first read)."""
        return self._equity

    @property
    def stream_healthy(self) -> bool:
        return self._stream_healthy

    @property
    def halted(self) -> bool:
        return self._halted

    @property
    def latched(self) -> LatchMode | None:
        return self._daily.latched

    @property
    def daily(self) -> DailyLoss:
        return self._daily

    @property
    def runaway(self) -> str | None:
        """Why the runaway breaker tripped (None: it has not)."""
        breaker = self._pacer.breaker
        return None if breaker.tripped is None else f"{breaker.tripped}: {breaker.detail}"

    @property
    def parked(self) -> int:
        """Orders waiting for room in the order-rate window."""
        return self._pacer.parked

    def positions(self) -> dict[str, Decimal]:
        return self._exposure.positions()

    # --- pacing -----------------------------------------------------------------------

    def admit(self, ask: RiskRequest, now: float) -> bool:
        """True: decide ``ask`` now (``decide_asked``): the order-rate window has room and
        nothing of its rank waits ahead, or it is an entry that would only wait to be
        denied. False: it is parked until ``pop_due`` hands it back. Either way it feeds the
        runaway breaker, which may trip here (see ``runaway``)."""
        pacer, limits = self._pacer, self.limits
        pacer.breaker.observe_offered(ask.offered, now, limits)
        protective = _protective(ask)
        if not protective and self._entries_blocked() and self._opening(ask) > 0:
            return True
        if pacer.may_go_now(limits, now, protective=protective):
            return True
        pacer.park(ask, ask.waiting, protective=protective)
        pacer.breaker.observe_backlog(pacer.backlog(), limits)
        return False

    def decide_asked(self, ask: RiskRequest, now: float) -> RiskDecision:
        """The decision on a request admitted or due; an approval holds its place in the
        window until it is posted (``order_posted``)."""
        decision = self.decide(
            ask.request,
            ask.position_qty,
            now,
            size_by_policy=ask.size_by_policy,
            confidence=ask.confidence,
            position_derived=ask.position_derived,
        )
        if isinstance(decision, Approved):
            self._pacer.window.hold(decision.client_order_id, now)
        return decision

    def pop_due(self, now: float) -> RiskRequest | None:
        """The first parked request, once the window has room for it."""
        return self._pacer.pop_due(self.limits, now)

    def next_due(self, now: float) -> float | None:
        """When the first parked request gets its room (None: nothing is parked)."""
        return self._pacer.next_due(self.limits, now)

    def take_blocked_entries(self) -> list[RiskRequest]:
        """While entries are denied (a halt, a latch, the breaker), the parked ones that
        open risk, off the queue: decided at once, they are denied rather than left
        waiting for a slot. Risk-reducing ones keep their places."""
        if not self._entries_blocked():
            return []
        taken = self._pacer.take_entries()
        kept: list[Parked[RiskRequest]] = [p for p in taken if self._opening(p.item) == 0]
        self._pacer.return_entries(kept)
        return [p.item for p in taken if self._opening(p.item) > 0]

    def order_posted(self, client_order_id: str, now: float) -> None:
        """The POST of an approved order is done: it counts as sent from now."""
        self._pacer.window.posted(client_order_id, now)

    def count_protective_send(self, now: float) -> None:
        """An exit went out without asking: it takes its place in the window (the first:
        it is already on the wire), and what waits there waits for the room it took."""
        self._pacer.window.count(now)

    def _entries_blocked(self) -> bool:
        return (
            self._halted
            or self._daily.latched is not None
            or self._pacer.breaker.tripped is not None
        )

    def _opening(self, ask: RiskRequest) -> Decimal:
        """What the order would open; a number that cannot be compared counts as opening
        (so it is decided at once: ``decide`` denies it ``bad_number``)."""
        request = ask.request
        try:
            already = self._exposure.pending(request.symbol, request.side)
            return opening_qty(request, ask.position_qty, already)
        except DecimalException:
            return request.qty if request.qty.is_finite() and request.qty > 0 else Decimal(1)

    # --- the decision -----------------------------------------------------------------

    def decide(
        self,
        request: OrderRequest,
        position_qty: Decimal,
        now: float,
        *,
        size_by_policy: bool = False,
        confidence: float | None = None,
        position_derived: bool = False,
    ) -> RiskDecision:
        """Approve (reserving its worst-case cost) or deny the order. ``size_by_policy``:
        its quantity is not given; the sizing policy sets it, and the approval carries it.
        ``position_derived``: its quantity comes from the confirmed position, so the
        duplicate-order window neither holds it back nor remembers it.
        Arithmetic that raises (a number no bound caught) denies the order, coded
        ``bad_number``; the checks that can raise run before any reservation is made."""
        cid = request.client_order_id
        try:
            with trapping_decimals():
                return self._decide(
                    request, position_qty, now, size_by_policy, confidence, position_derived
                )
        except DecimalException as exc:
            detail = bounded_reason(
                f"cannot compute risk for {request.side} {quote(request.qty)} "
                f"{request.symbol}: {decimal_failure(exc)}"
            )
            return Denied(client_order_id=cid, code=DECIMAL_TRAP_CODE, detail=detail)

    def _decide(
        self,
        request: OrderRequest,
        position_qty: Decimal,
        now: float,
        size_by_policy: bool,
        confidence: float | None,
        position_derived: bool,
    ) -> RiskDecision:
        cid = request.client_order_id
        if size_by_policy:
            sized = self._sized(request, now, confidence)
            if isinstance(sized, Refusal):
                return Denied(client_order_id=cid, code=sized.code, detail=sized.detail)
            request = msgspec.structs.replace(request, qty=sized)
        refusal = self._refusal(request, position_qty, now, position_derived)
        if refusal is not None:
            return Denied(client_order_id=cid, code=refusal.code, detail=refusal.detail)
        reservation = self._reservations[cid]
        return Approved(client_order_id=cid, reserved=reservation.remaining, qty=request.qty)

    def _sized(
        self, request: OrderRequest, now: float, confidence: float | None
    ) -> Decimal | Refusal:
        refusal = self._account_refusal(now)
        if refusal is not None:
            return refusal
        assert self._equity is not None  # checked just above
        return size_request(
            request, self.limits, self.prices, self._equity, self.assets, now, confidence
        )

    def _account_refusal(self, now: float) -> Refusal | None:
        if self._buying_power is None or self._equity is None or self._account_at is None:
            return Refusal("account_unknown", "no account snapshot yet")
        if now - self._account_at > self.limits.max_account_age:
            return Refusal("account_stale", f"account older than {self.limits.max_account_age:g}s")
        return None

    def _refusal(
        self, request: OrderRequest, position_qty: Decimal, now: float, position_derived: bool
    ) -> Refusal | None:
        if self._daily.latched == "halted":
            return Refusal("daily_loss_halted", "the daily loss limit halted trading")
        refusal = check_qty(request.qty, self.assets.get(request.symbol))
        if refusal is not None:
            return refusal
        # What earlier approved orders would reduce is not there to reduce again.
        already = self._exposure.pending(request.symbol, request.side)
        opening = opening_qty(request, position_qty, already)
        if opening == 0:
            self._reservations[request.client_order_id] = Reservation(request, ZERO, ZERO)
            self._exposure.reserve(
                request.client_order_id, request.symbol, request.side, request.qty
            )
            return None
        if self._halted:
            return Refusal("halted", "trading is halted: only risk-reducing orders pass")
        if self._daily.latched == "reducing":
            return Refusal("daily_loss_reducing", "daily loss limit: only risk-reducing orders")
        breaker = self._pacer.breaker
        if breaker.tripped is not None:
            return Refusal(
                "runaway_breaker", f"{breaker.detail}: only risk-reducing orders until resume"
            )
        if self.limits.refuse_entries_when_stream_down and not self._stream_healthy:
            return Refusal(
                "stream_unhealthy", "the order stream is down: only risk-reducing orders pass"
            )
        refusal = self._check_entry(request, opening, now, position_derived)
        if refusal is None and not position_derived:
            self._flow.record(request, now)
        return refusal

    def _check_entry(
        self, request: OrderRequest, opening: Decimal, now: float, position_derived: bool
    ) -> Refusal | None:
        limits = self.limits
        refusal = self._account_refusal(now)
        if refusal is not None:
            return refusal
        assert self._buying_power is not None
        assert self._equity is not None
        last = self.prices.last(request.symbol, now, limits.max_price_age)
        if last is None:
            return Refusal(
                "no_price", f"no price for {request.symbol} newer than {limits.max_price_age:g}s"
            )
        unit_cost = self._unit_cost(request, last)
        refusal = (
            check_order_size(request.qty, request.qty * unit_cost, limits)
            or check_collar(request, last, limits)
            or (None if position_derived else self._flow.check(request, now))
        )
        if refusal is not None:
            return refusal
        if limits.max_open_orders is not None and len(self._reservations) >= limits.max_open_orders:
            return Refusal("max_open_orders", f"{limits.max_open_orders} orders already open")
        refusal = self._exposure.check(
            request.symbol,
            request.side,
            request.qty,
            unit_cost,
            self._equity,
            now,
        )
        if refusal is not None:
            return refusal
        cost = opening * unit_cost
        available = self._buying_power - self.reserved
        if cost > available:
            return Refusal(
                "insufficient_buying_power", f"needs {cost:.2f}, available {available:.2f}"
            )
        self._reservations[request.client_order_id] = Reservation(request, opening, unit_cost)
        self._exposure.reserve(request.client_order_id, request.symbol, request.side, request.qty)
        return None

    def _unit_cost(self, request: OrderRequest, last: Decimal) -> Decimal:
        match request.order_type:
            case OrderType.LIMIT | OrderType.STOP_LIMIT:
                assert request.limit_price is not None  # the signal's schema requires it
                return request.limit_price
            case OrderType.STOP:
                assert request.stop_price is not None
                return request.stop_price
            case OrderType.MARKET:
                return last * (1 + self.limits.market_slippage)
            case _:
                assert_never(request.order_type)

    # --- what happened to orders ------------------------------------------------------

    def on_update(self, update: OrderUpdate, now: float | None = None) -> None:
        """Fills shrink the reservation and move buying power; a final state releases it.
        ``now``: when it came (the order is at the venue, posted by then)."""
        self._exposure.on_update(update)
        cid = update.order.client_order_id
        reservation = self._reservations.get(cid)
        if reservation is None:
            return
        self._reads.order_event(cid)
        # The venue has it: posted, if its executor has not said so yet.
        self._pacer.window.posted(cid, now)
        if not reservation.at_venue:
            reservation.at_venue = True
        filled_now = min(update.order.filled_qty, reservation.request.qty)
        if filled_now > reservation.filled:
            delta = filled_now - reservation.filled
            price = update.fill.price if update.fill else update.order.filled_avg_price
            opened = max(ZERO, min(delta, reservation.opening_qty - reservation.filled))
            closed = delta - opened
            # A limit order is charged at no less than its limit: a snapshot taken after
            # its fill but before this update had its hold given back at the limit.
            charge = reservation.unit_cost if price is None else price
            if reservation.priced:
                charge = max(charge, reservation.unit_cost)
            if price is not None and self._buying_power is not None:
                self._buying_power += closed * price - opened * charge
            # A read in flight may or may not have seen this fill: charged again on top.
            self._reads.opening_fill(opened * charge)
            reservation.filled = filled_now
        if update.order.status.is_final:
            refused = update.order.status is OrderStatus.REJECTED
            if refused and reservation.opening_qty > 0:
                self.wants_refresh = True
            self._flow.ended(cid, traded=not refused or update.order.filled_qty > 0)
            del self._reservations[cid]

    def release(self, client_order_id: str, now: float | None = None) -> None:
        """The order ended without a venue event: refused at submit (possibly for buying
        power, so the account is read again at once) or never sent."""
        reservation = self._reservations.pop(client_order_id, None)
        self._pacer.window.posted(client_order_id, now)
        self._exposure.release(client_order_id)
        self._flow.ended(client_order_id, traded=False)
        if reservation is not None and reservation.opening_qty > 0:
            self.wants_refresh = True


def _protective(ask: RiskRequest) -> bool:
    """The order can only bring the position toward flat: it goes first in the window."""
    request, held = ask.request, ask.position_qty
    try:
        if ask.size_by_policy or held == 0 or request.side.sign * held > 0:
            return False
        return request.qty <= abs(held)
    except DecimalException:
        return False  # ``decide`` denies it ``bad_number``
