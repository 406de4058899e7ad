"""Messages between the actors, and the signal/ack contract with the outside world.

The outside world's (``Signal``, ``Ack``) are frozen msgspec Structs tagged by ``kind``.
A message that carries a reply channel is an attrs class instead: it is never encoded, and
its channel keeps its real type.
"""

from __future__ import annotations

import enum
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

import attrs
import msgspec

from actors.signal_bounds import (
    MAX_DECIMAL_PLACES,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_REASON_CHARS,
    MAX_WEIGHT,
    MAX_WEIGHT_DECIMAL_PLACES,
    bounded,
    bounded_reason,
    quote,
)
from brokers.base import (
    OrderEvent,
    OrderRequest,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    VenueOrder,
)

if TYPE_CHECKING:
    # Named only in the types of the attrs messages below (never encoded, so never resolved
    # at run time): the messages stay importable by the pure cores, which never import trio.
    from datetime import datetime

    import trio

    # Answers the Reconciler builds; only named here, in the types of their reply channels.
    from actors.reconciler.correction_apply import ApprovalResult
    from actors.reconciler.drift_checks import ReconciliationReport
    from actors.risk.limits import RiskLimits


class Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind"):
    """Base of every message."""


class Action(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"
    CLOSE = "close"
    TARGET = "target"
    REBALANCE = "rebalance"


SignalId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.!/_-]+$")]


_QUANTITIES = ("qty", "target_qty")
_PRICES = ("limit_price", "stop_price", "take_profit", "stop_loss")
_POSITIVE = ("qty", *_PRICES)


def _bounded_field(signal: Signal, name: str, limit: Decimal) -> None:
    """Check one optional number against its bounds and keep it in canonical form."""
    value = getattr(signal, name)
    if value is None:
        return
    exact = bounded(name, value, limit=limit, places=MAX_DECIMAL_PLACES)
    if name in _POSITIVE and exact <= 0:
        raise ValueError(f"`{name}` must be greater than 0, got {quote(value)}")
    msgspec.structs.force_setattr(signal, name, exact)


def _bounded_weights(targets: dict[str, Decimal]) -> dict[str, Decimal]:
    weights = {}
    for sym, weight in targets.items():
        exact = bounded(
            f"targets.{sym}", weight, limit=MAX_WEIGHT, places=MAX_WEIGHT_DECIMAL_PLACES
        )
        if exact < 0:
            raise ValueError(f"`targets.{sym}` must not be negative, got {quote(weight)}")
        weights[sym] = exact
    # Exact: at most a few thousand weights of 18 places fit decimal's 28 digits.
    if sum(weights.values()) > 1:
        raise ValueError("`targets` weights must add up to at most 1")
    return weights


class Signal(Message, frozen=True, kw_only=True, tag="signal"):
    """A trade signal: one JSON object per input line (``kind`` is optional there)."""

    id: SignalId
    action: Action
    symbol: Symbol | None = None
    qty: Decimal | None = None
    target_qty: Decimal | None = None
    targets: dict[Symbol, Decimal] | None = None
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    strategy: Annotated[str, msgspec.Meta(max_length=128)] | None = None

    def __post_init__(self) -> None:
        # msgspec turns these ValueErrors into a ValidationError naming the problem. The
        # bounds keep every later computation on these numbers inside decimal's context.
        for name in _QUANTITIES:
            _bounded_field(self, name, MAX_QUANTITY)
        for name in _PRICES:
            _bounded_field(self, name, MAX_PRICE)
        if self.targets is not None:
            msgspec.structs.force_setattr(self, "targets", _bounded_weights(self.targets))
        if self.action is Action.REBALANCE:
            if not self.targets:
                raise ValueError("`rebalance` needs `targets`: {symbol: weight}")
            return
        if self.symbol is None:
            raise ValueError(f"`{self.action}` needs `symbol`")
        if self.action is Action.TARGET and self.target_qty is None:
            raise ValueError("`target` needs `target_qty` (signed)")
        if self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None:
            raise ValueError(f"`{self.order_type}` order needs `limit_price`")
        if self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise ValueError(f"`{self.order_type}` order needs `stop_price`")


AckStatus = Literal["accepted", "duplicate", "rejected"]


class Ack(Message, frozen=True, kw_only=True, tag="ack"):
    """The answer to one input line."""

    id: str | None
    status: AckStatus
    reason: str | None = None

    def __post_init__(self) -> None:
        # One place bounds every reason an ack, its log line and its journal record carry,
        # whatever outside input the reason quotes.
        if self.reason is not None and len(self.reason) > MAX_REASON_CHARS:
            msgspec.structs.force_setattr(self, "reason", bounded_reason(self.reason))


class Summary(Message, frozen=True, kw_only=True, tag="summary"):
    """The last line of ``tradingd run --once``."""

    positions: dict[str, Decimal]
    orders: list[dict[str, Any]]
    unresolved: int


_signal_decoder = msgspec.json.Decoder(Signal)
# Untyped, for the id of a line the typed decoder refused: numbers as Decimals, since a
# float field's 1e400 is out of a float's range and would hide the id.
_any_decoder = msgspec.json.Decoder(float_hook=Decimal)


class BadSignal(ValueError):
    """An input line that is not a valid signal; ``signal_id`` when one could be read."""

    def __init__(self, reason: str, signal_id: str | None) -> None:
        # A decoder's message may quote the offending input: never all of it.
        super().__init__(bounded_reason(reason))
        self.signal_id = signal_id


def build_signal(**fields: object) -> Signal:
    """A Signal tradingd itself produces (a rebalance leg, a correction, a flatten), held to
    every rule a line is: a field out of bounds raises BadSignal, as it would on a line."""
    try:
        return msgspec.convert(fields, Signal)
    except msgspec.ValidationError as exc:
        signal_id = fields.get("id")
        raise BadSignal(str(exc), signal_id if isinstance(signal_id, str) else None) from exc


def parse_signal(line: bytes | str, *, sized_entries: bool = False) -> Signal:
    """Decode one input line into a Signal, or raise BadSignal with a readable reason.
    A buy or sell may leave out ``qty`` only with ``sized_entries`` (a sizing policy is
    configured: RiskGuard sizes it)."""
    try:
        signal = _signal_decoder.decode(line)
    except msgspec.ValidationError as exc:
        raise BadSignal(str(exc), _best_effort_id(line)) from exc
    except msgspec.DecodeError as exc:
        raise BadSignal(f"not a JSON object: {exc}", None) from exc
    except UnicodeDecodeError as exc:
        raise BadSignal(f"not valid UTF-8: {exc}", None) from exc
    except RecursionError as exc:
        # msgspec descends one C call per level: [[[[… a few thousand deep exhausts it.
        raise BadSignal("not a JSON object: nested too deeply", None) from exc
    duplicate = _duplicate_key(line)
    if duplicate is not None:
        # Which of two `qty` or `id` values a sender meant is a guess: never trade on one.
        raise BadSignal(
            f"duplicate key {quote(duplicate)!r}", None if duplicate == "id" else signal.id
        )
    if signal.action in (Action.BUY, Action.SELL) and signal.qty is None and not sized_entries:
        raise BadSignal(
            f"`{signal.action}` needs `qty` greater than 0 (or a [risk.sizing] policy)", signal.id
        )
    return signal


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _duplicate_key(line: bytes | str) -> str | None:
    """A key the line's JSON writes twice in one object, if any (msgspec keeps the last).

    Only for a line that decoded as a Signal: its nesting is shallow, so the standard
    library's recursive parser is safe on it; numbers stay text (no int-size limit)."""
    try:
        json.loads(
            line,
            object_pairs_hook=_refuse_duplicates,
            parse_int=str,
            parse_float=str,
            parse_constant=str,
        )
    except _DuplicateKey as exc:
        return str(exc.args[0])
    except (ValueError, RecursionError):
        return None  # msgspec's verdict on the JSON stands
    return None


def _best_effort_id(line: bytes | str) -> str | None:
    """The line's ``id`` if it has a usable one, so the rejection ack can carry it."""
    try:
        raw = _any_decoder.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        # msgspec checks a string's UTF-8 only when it decodes it: a line the typed decoder
        # refused for its shape can still hold invalid bytes.
        return None
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return None


# --- between actors ----------------------------------------------------------------


# The source of a signal worked again at startup: it came back from the journal.
REPLAY_SOURCE = "replay"


@attrs.frozen(kw_only=True)
class Inbound:
    """One input line from a source, with where its ack goes."""

    line: bytes
    source: str
    reply: trio.MemorySendChannel[Ack]


@attrs.frozen(kw_only=True)
class ProducedSignal:
    """A signal tradingd itself produced (a rebalance leg, a correction, a flatten), handed
    to the router as the object it is: there is no line to parse again."""

    signal: Signal
    source: str
    reply: trio.MemorySendChannel[Ack]


RouterInput = Inbound | ProducedSignal


@attrs.frozen(kw_only=True)
class ExecuteSignal:
    """The router hands one signal for one symbol to that symbol's executor."""

    signal: Signal
    # None for a signal replayed at startup (acked before the restart); else the executor
    # acks once it knows enough.
    reply: trio.MemorySendChannel[Ack] | None
    received_at: datetime
    # Who sent it, and the line as received: the journal's record of the signal names both.
    source: str
    raw: str


class Approved(Message, frozen=True, kw_only=True, tag="approved"):
    client_order_id: str
    reserved: Decimal
    # The quantity approved: the one to send (RiskGuard sized it when the signal had none).
    qty: Decimal | None = None


class Denied(Message, frozen=True, kw_only=True, tag="denied"):
    client_order_id: str
    code: str  # stable reason code, e.g. ``insufficient_buying_power``
    detail: str


RiskDecision = Approved | Denied


@attrs.frozen(kw_only=True)
class RiskRequest:
    """An executor asks RiskGuard to approve one order before it leaves."""

    request: OrderRequest
    # The confirmed position before this order, signed: tells risk-reducing orders apart.
    position_qty: Decimal
    reply: trio.MemorySendChannel[RiskDecision]  # the executor's inbox
    # The signal gave no qty: RiskGuard sizes the order by its policy (``request.qty`` is 0).
    size_by_policy: bool = False
    confidence: float | None = None
    # The signal the order is for: if deciding on it raises, RiskGuard quarantines it.
    signal_id: str | None = None
    # Its quantity comes from the confirmed position (a target, a close, either leg of an
    # order across zero): idempotent by the position, never a duplicate of another order.
    position_derived: bool = False
    # For the runaway breaker: the signals queued behind this one at its executor, and the
    # signals that arrived there since its last request (this one's included).
    waiting: int = 0
    offered: int = 1


class ProtectiveSent(Message, frozen=True, kw_only=True, tag="protective_sent"):
    """An exit went out without asking RiskGuard (a bracket's, an emulated stop's): it
    counts in the order-rate window like every order sent, ahead of what waits there."""

    client_order_id: str


class OrderPosted(Message, frozen=True, kw_only=True, tag="order_posted"):
    """An approved order's POST is done, whatever its answer: it left the venue's request
    budget, so RiskGuard's order-rate window counts it as sent from now, not from its
    approval (the budget may have held it back)."""

    client_order_id: str


class StreamHealth(Message, frozen=True, kw_only=True, tag="stream_health"):
    """OrderMonitor's order stream went up (connected and re-synced) or down."""

    healthy: bool


class ReleaseReservation(Message, frozen=True, kw_only=True, tag="release_reservation"):
    """An order ended without the venue saying so on its stream (refused at submit, never
    sent): RiskGuard gives its reservation back."""

    client_order_id: str


class OrderSeen(Message, frozen=True, kw_only=True, tag="order_seen"):
    """What the Reconciler uses of an order update: whose order it is (an outside one is
    reported) and whether it ended (a drift check follows soon after)."""

    symbol: str
    client_order_id: str
    side: Side
    qty: Decimal
    event: OrderEvent
    final: bool

    @classmethod
    def of(cls, update: OrderUpdate) -> OrderSeen:
        order = update.order
        return cls(
            symbol=order.symbol,
            client_order_id=order.client_order_id,
            side=order.side,
            qty=order.qty,
            event=update.event,
            final=order.status.is_final,
        )


# --- to an executor, from startup, the price feed and the Reconciler ---------------------


class ResendIntent(Message, frozen=True, kw_only=True, tag="resend_intent"):
    """An intent journaled before a crash that the venue never received (found at startup):
    approved then, acked then, so it is sent now without asking again."""

    request: OrderRequest


class ResumeFlip(Message, frozen=True, kw_only=True, tag="resume_flip"):
    """A signal across zero interrupted after its flat leg's intent (found at startup): its
    open leg, to ``goal``, follows once that leg is final and the position is flat."""

    symbol: str  # the executor's (the signal's may be an alias)
    signal: Signal
    flat_leg: str  # the flat leg's client_order_id
    goal: Decimal


class PriceSeen(Message, frozen=True, kw_only=True, tag="price_seen"):
    """A trade price for the symbol, fed in while a stop is held by the executor."""

    price: Decimal


@attrs.frozen(kw_only=True)
class AdoptOutsideFill:
    """The venue's record of an order placed outside tradingd, with fills in the executor's
    symbol: taken into its position (``actors.executor.core_outside_fills``). The executor
    answers on ``reply`` once what it took is durable."""

    order: VenueOrder
    reply: trio.MemorySendChannel[Ack]


# --- to the OrderMonitor, from an executor -----------------------------------------------


@attrs.frozen(kw_only=True)
class Watch:
    """An executor is about to send this order: route its updates to ``deliver_to``."""

    client_order_id: str
    symbol: str
    deliver_to: trio.MemorySendChannel[OrderUpdate]  # the executor's inbox


class StreamUp(Message, frozen=True, kw_only=True, tag="stream_up"):
    """The monitor's stream shell: connected and re-synced."""


class StreamDown(Message, frozen=True, kw_only=True, tag="stream_down"):
    """The monitor's stream shell: the connection is gone (REST polling takes over)."""

    reason: str


class LookupEnded(Message, frozen=True, kw_only=True, tag="lookup_ended"):
    """A REST lookup the monitor made has ended (its result, if any, came as an update)."""

    client_order_id: str


MonitorInput = Watch | OrderUpdate | StreamUp | StreamDown | LookupEnded


# --- to an executor, from the operator's kill switch ------------------------------------


@attrs.frozen(kw_only=True)
class CancelEntries:
    """The kill switch at one symbol: cancel its working entries, keep the exits guarding its
    position (a halt must not leave a position without its stop). ``done`` is set once the
    cancels are asked for."""

    done: trio.Event | None = None


# --- to RiskGuard, from the operator's commands and a config reload ----------------------


@attrs.frozen(kw_only=True)
class Halt:
    """The kill switch: no new risk until Resume. ``done`` is set once the halt is in force
    (and journaled), so the caller knows every later decision sees it."""

    done: trio.Event | None = None


@attrs.frozen(kw_only=True)
class Resume:
    """Lift a halt, a daily-loss latch and the runaway breaker, here and in the journal."""

    done: trio.Event | None = None


@attrs.frozen(kw_only=True)
class SetLimits:
    """New risk limits from a config reload (SIGHUP), already validated."""

    limits: RiskLimits


RiskInput = (
    RiskRequest
    | OrderUpdate
    | ReleaseReservation
    | ProtectiveSent
    | OrderPosted
    | Halt
    | Resume
    | SetLimits
    | StreamHealth
)


# --- to the Reconciler, from the operator's commands -------------------------------------


@attrs.frozen(kw_only=True)
class RunReconciliation:
    """The operator asks for a full comparison now (``tradingd reconcile``)."""

    reply: trio.MemorySendChannel[ReconciliationReport]


@attrs.frozen(kw_only=True)
class ApproveCorrection:
    """The operator approves one queued correction (``tradingd approve ID``)."""

    correction_id: int
    reply: trio.MemorySendChannel[ApprovalResult]


def order_side_for_delta(delta: Decimal) -> Side:
    """The side that moves a position by ``delta`` (never called with 0)."""
    return Side.BUY if delta > 0 else Side.SELL
