"""TradingView alert bodies onto signals: pure, no I/O, no clock (``now`` comes in).

An alert's message is JSON the user writes in TradingView with placeholders, e.g.::

    {"passphrase": "…", "ticker": "{{ticker}}", "action": "{{strategy.order.action}}",
     "contracts": "{{strategy.order.contracts}}", "position_size": "{{strategy.position_size}}",
     "market_position": "{{strategy.market_position}}", "order_id": "{{strategy.order.id}}",
     "bar_time": "{{time}}", "time": "{{timenow}}"}

With ``position_size`` (or ``market_position`` flat) the signal is a ``target``: the daemon
trades the difference from the broker-confirmed position, so a repeated alert can never
double a position. Otherwise ``action`` + ``contracts`` is a plain buy or sell.

An alert without an ``id`` gets one derived from everything it says: its content, the
strategy's order id and bar time when given, and ``time``. The same body posted twice is
the same signal and trades once; two alerts that differ in anything are two. ``time``
(``{{timenow}}``) alone has one-second resolution: two genuine alerts in one second (a
reversal's orders) would be one, which ``order_id`` and ``bar_time`` tell apart. Without
any of the three, the minute the alert arrived in stands in for them.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, DecimalException
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from actors.signal_bounds import bounded_reason, decimal_failure, quote, trapping_decimals

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

Text = Annotated[str, msgspec.Meta(max_length=256)]


class BadAlert(ValueError):
    """The body is not an alert this endpoint understands (HTTP 400 with this reason)."""

    def __init__(self, reason: str) -> None:
        # A decoder's message may quote the body: never all of it.
        super().__init__(bounded_reason(reason))


class TradingViewAlert(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ticker: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    passphrase: Text | None = None
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    action: Text | None = None  # strategy.order.action: buy | sell
    contracts: Decimal | None = None  # strategy.order.contracts
    position_size: Decimal | None = None  # strategy.position_size (signed)
    market_position: Literal["long", "short", "flat"] | None = None
    strategy: Text | None = None  # a label recorded with the signal
    time: Text | None = None  # {{timenow}}: when the alert fired, to the second
    order_id: Text | None = None  # {{strategy.order.id}}: which of the strategy's orders
    bar_time: Text | None = None  # {{time}}: the bar that order came from
    # Informational placeholders people commonly include; recorded nowhere, accepted.
    exchange: Text | None = None
    interval: Text | None = None
    price: Text | None = None
    comment: Text | None = None


_decoder = msgspec.json.Decoder(TradingViewAlert)
_encoder = msgspec.json.Encoder()


def parse_alert(body: bytes) -> TradingViewAlert:
    """Decode a JSON body (whatever its content type said); BadAlert says what is wrong."""
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise BadAlert(f"not a TradingView alert this endpoint accepts: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise BadAlert(f"malformed JSON: {exc}") from exc


def derive_signal_id(alert: TradingViewAlert, token_name: str, now: datetime) -> str:
    """Same alert body → same id; a body that differs in anything → another id. Without
    ``time``, ``order_id`` or ``bar_time``, the minute of arrival stands in for them."""
    when = alert.time
    strategy_order: list[str | None] = []
    if alert.order_id is None and alert.bar_time is None:
        # The layout ids had before order_id and bar_time: an alert re-sent across an
        # upgrade keeps its id, and stays a duplicate.
        if when is None:
            when = now.strftime("%Y-%m-%dT%H:%MZ")
    else:
        strategy_order = [alert.order_id, alert.bar_time]
    content = [
        token_name,
        alert.ticker.upper(),
        (alert.action or "").lower(),
        str(alert.contracts),
        str(alert.position_size),
        alert.market_position,
        alert.strategy,
        when,
        *strategy_order,
    ]
    return "tv-" + hashlib.sha256(_encoder.encode(content)).hexdigest()[:32]


def alert_to_signal(
    alert: TradingViewAlert,
    token_name: str,
    now: datetime,
    resolve_symbol: Callable[[str], str] = lambda symbol: symbol,
) -> bytes:
    """The signal line the router parses (and validates) like any other source's."""
    signal: dict[str, Any] = {
        "id": alert.id or derive_signal_id(alert, token_name, now),
        "symbol": resolve_symbol(alert.ticker.upper()),
        "strategy": alert.strategy or token_name,
    }
    if alert.market_position == "flat":
        signal.update(action="target", target_qty=Decimal(0))
    elif alert.position_size is not None:
        signal.update(action="target", target_qty=_signed_size(alert))
    elif alert.action is not None and alert.contracts is not None:
        action = alert.action.lower()
        if action not in ("buy", "sell"):
            raise BadAlert(f"`action` must be buy or sell, got {alert.action!r}")
        signal.update(action=action, qty=alert.contracts)
    else:
        raise BadAlert(
            "needs `position_size` (or `market_position` flat), or `action` and `contracts`"
        )
    return _encoder.encode(signal)


def _signed_size(alert: TradingViewAlert) -> Decimal:
    """``position_size`` signed by ``market_position``. The number is checked against the
    signal's bounds by the router; here only its sign is taken, which an sNaN refuses."""
    size = alert.position_size
    assert size is not None  # the caller checked
    try:
        with trapping_decimals():
            if alert.market_position == "short":
                return -abs(size)
            if alert.market_position == "long":
                return abs(size)
            return size
    except DecimalException as exc:
        raise BadAlert(
            f"`position_size` {quote(size)} is not a number: {decimal_failure(exc)}"
        ) from exc
