"""Messages between the actors, and the signal/ack contract with the outside world.

Every message is a frozen msgspec Struct tagged by ``kind``. Reply channels ride inside
the messages that expect an answer; they are never encoded.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from brokers.base import OrderRequest, OrderType, Side, TimeInForce


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


def _require_finite(name: str, value: Decimal | None, *, positive: bool) -> None:
    if value is None:
        return
    if not value.is_finite():
        raise ValueError(f"`{name}` must be a finite number, got {value}")
    if positive and value <= 0:
        raise ValueError(f"`{name}` must be greater than 0, got {value}")


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
        # msgspec turns these ValueErrors into a ValidationError naming the problem.
        for name in ("qty", "limit_price", "stop_price", "take_profit", "stop_loss"):
            _require_finite(name, getattr(self, name), positive=True)
        _require_finite("target_qty", self.target_qty, positive=False)
        if self.action is Action.REBALANCE:
            if not self.targets:
                raise ValueError("`rebalance` needs `targets`: {symbol: weight}")
            for sym, weight in self.targets.items():
                _require_finite(f"targets.{sym}", weight, positive=False)
                if weight < 0:
                    raise ValueError(f"`targets.{sym}` must not be negative, got {weight}")
            if sum(self.targets.values()) > 1:
                raise ValueError("`targets` weights must add up to at most 1")
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


class Summary(Message, frozen=True, kw_only=True, tag="summary"):
    """The last line of ``tradingd run --once``."""

    positions: dict[str, Decimal]
    orders: list[dict[str, Any]]
    unresolved: int


_signal_decoder = msgspec.json.Decoder(Signal)


class BadSignal(ValueError):
    """An input line that is not a valid signal; ``signal_id`` when one could be read."""

    def __init__(self, reason: str, signal_id: str | None) -> None:
        super().__init__(reason)
        self.signal_id = signal_id


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
    if signal.action in (Action.BUY, Action.SELL) and signal.qty is None and not sized_entries:
        raise BadSignal(
            f"`{signal.action}` needs `qty` greater than 0 (or a [risk.sizing] policy)", signal.id
        )
    return signal


def _best_effort_id(line: bytes | str) -> str | None:
    """The line's ``id`` if it has a usable one, so the rejection ack can carry it."""
    try:
        raw = msgspec.json.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        # msgspec checks a string's UTF-8 only when it decodes it: a line the typed decoder
        # refused for its shape can still hold invalid bytes.
        return None
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return None


# --- between actors ----------------------------------------------------------------


class ExecuteSignal(Message, frozen=True, kw_only=True, tag="execute_signal"):
    """The router hands one signal for one symbol to that symbol's executor."""

    signal: Signal
    reply: Any  # trio.MemorySendChannel[Ack]; the executor acks once it knows enough
    received_at: datetime


class RiskRequest(Message, frozen=True, kw_only=True, tag="risk_request"):
    """An executor asks RiskGuard to approve one order before it leaves."""

    request: OrderRequest
    # The confirmed position before this order, signed: tells risk-reducing orders apart.
    position_qty: Decimal
    reply: Any  # trio.MemorySendChannel of the executor's inbox
    # The signal gave no qty: RiskGuard sizes the order by its policy (``request.qty`` is 0).
    size_by_policy: bool = False
    confidence: float | None = None
    # The signal the order is for: if deciding on it raises, RiskGuard quarantines it.
    signal_id: str | None = None


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


class StreamHealth(Message, frozen=True, kw_only=True, tag="stream_health"):
    """OrderMonitor's order stream went up (connected and re-synced) or down."""

    healthy: bool


class ReleaseReservation(Message, frozen=True, kw_only=True, tag="release_reservation"):
    """An order ended without the venue saying so on its stream (refused at submit, never
    sent): RiskGuard gives its reservation back."""

    client_order_id: str


def order_side_for_delta(delta: Decimal) -> Side:
    """The side that moves a position by ``delta`` (never called with 0)."""
    return Side.BUY if delta > 0 else Side.SELL
