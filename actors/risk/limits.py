"""The trader's risk limits: the ``[risk]`` config section, with defaults a paper newcomer can
trade the examples with. Every limit that can be switched off takes ``None`` (or 0 for the
duplicate window); fractions are of the last price or of the account's equity.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

LatchMode = Literal["reducing", "halted"]
# Where the trading day ends: the venue's market clock (each close, for equities) or a
# configured wall-clock boundary (futures: 17:00 America/Chicago).
TradingDayMode = Literal["venue", "session"]
SizingMethod = Literal["notional", "equity_fraction"]


class SizingPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[risk.sizing]``: how much a buy or sell without ``qty`` trades."""

    # "notional": a fixed amount of money per order; "equity_fraction": that share of equity.
    method: SizingMethod = "notional"
    notional: Decimal = Decimal(1000)
    equity_fraction: Decimal = Decimal("0.01")
    # Multiply by the signal's ``confidence`` (0..1) when it has one.
    scale_by_confidence: bool = True
    # With a target, the size shrinks by target / estimate when the symbol's volatility
    # (standard deviation of one-minute returns, from the price feed) is above it.
    target_volatility: Decimal | None = None

    def __post_init__(self) -> None:
        _require_non_negative("sizing.notional", self.notional)
        _require_non_negative("sizing.target_volatility", self.target_volatility)
        if not (self.equity_fraction.is_finite() and 0 < self.equity_fraction <= 1):
            raise ValueError(
                f"`sizing.equity_fraction` must be in (0, 1], got {self.equity_fraction}"
            )
        if self.notional <= 0:
            raise ValueError(f"`sizing.notional` must be > 0, got {self.notional}")
        if self.target_volatility is not None and self.target_volatility <= 0:
            raise ValueError("`sizing.target_volatility` must be > 0")


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every pre-trade, exposure and loss limit RiskGuard enforces."""

    # A market order is valued at the last price plus this allowance for slippage.
    market_slippage: Decimal = Decimal("0.02")
    # A price older than this (seconds) is never used for a decision.
    max_price_age: float = 60.0
    # The account is read from the venue at most this often (and after any venue refusal).
    account_refresh_interval: float = 5.0
    # An account snapshot older than this (seconds) is never used for a decision.
    max_account_age: float = 60.0

    # Pre-trade controls, per order.
    max_order_qty: Decimal | None = Decimal(10_000)
    max_order_notional: Decimal | None = Decimal(100_000)
    # A limit or stop price further than this fraction from the last price is refused.
    price_collar: Decimal | None = Decimal("0.10")
    # Orders sent (every one: entries, closes, exits) per second and per minute. An order
    # over the rate waits for room, protective ones first; it is never refused for it.
    max_orders_per_second: int | None = 10
    max_orders_per_minute: int | None = 120
    # The runaway breaker: past this many orders waiting for the rate limits (with the
    # signals queued behind them; None: a minute's allowance, ``max_orders_per_minute``),
    # or with more than ``breaker_ratio`` x ``max_orders_per_second`` signals offered a
    # second for ``breaker_seconds``, new entries are denied until ``resume``.
    breaker_backlog: int | None = None
    breaker_ratio: float | None = 5.0
    breaker_seconds: float = 10.0
    max_open_orders: int | None = 100
    # Same symbol, side and qty again within this many seconds is refused (0: off); an
    # order sized from the confirmed position (a target, a close, the legs of an order
    # across zero) never is.
    duplicate_window: float = 2.0

    # Exposure: per symbol, and for the whole book as multiples of equity.
    max_position_qty: Decimal | None = None
    max_position_notional: Decimal | None = Decimal(250_000)
    max_gross_exposure: Decimal | None = Decimal(2)
    max_net_exposure: Decimal | None = Decimal(1)
    # symbol -> sector, and sector -> the largest fraction of equity it may hold.
    sectors: dict[str, str] = msgspec.field(default_factory=dict)
    sector_caps: dict[str, Decimal] = msgspec.field(default_factory=dict)

    # Daily loss: a loss of this fraction of the start-of-day equity latches the guard.
    daily_loss_limit: Decimal | None = Decimal("0.05")
    loss_latch: LatchMode = "reducing"
    # "venue": the trading day ends at each close of the venue's market clock (the day's
    # date is the close's, in ``session_timezone``); "session": it starts at
    # ``session_boundary`` in ``session_timezone`` every day.
    trading_day: TradingDayMode = "venue"
    session_boundary: str = "00:00"
    session_timezone: str = "America/New_York"

    # Deny new risk while the order stream is down (fills then arrive by REST polling,
    # seconds late); orders that reduce a position always pass.
    refuse_entries_when_stream_down: bool = False

    # Buys and sells without ``qty`` are sized by this policy; without it they are refused.
    sizing: SizingPolicy | None = None

    def __post_init__(self) -> None:
        # msgspec turns these ValueErrors into a config error naming the field.
        for name in ("market_slippage", "max_order_qty", "max_order_notional", "price_collar"):
            _require_non_negative(name, getattr(self, name))
        for name in ("max_position_qty", "max_position_notional", "daily_loss_limit"):
            _require_non_negative(name, getattr(self, name))
        for name in ("max_gross_exposure", "max_net_exposure"):
            _require_non_negative(name, getattr(self, name))
        for sector, cap in self.sector_caps.items():
            _require_non_negative(f"sector_caps.{sector}", cap)
        if self.account_refresh_interval <= 0 or self.max_price_age <= 0:
            raise ValueError("`account_refresh_interval` and `max_price_age` must be > 0")
        if self.max_account_age < self.account_refresh_interval:
            raise ValueError("`max_account_age` must be at least `account_refresh_interval`")
        for name in ("max_orders_per_second", "max_orders_per_minute", "breaker_backlog"):
            count = getattr(self, name)
            if count is not None and count < 1:
                raise ValueError(f"`{name}` must be at least 1, got {count}")
        if self.breaker_ratio is not None and not 1 <= self.breaker_ratio < float("inf"):
            raise ValueError(f"`breaker_ratio` must be at least 1, got {self.breaker_ratio}")
        if not 0 < self.breaker_seconds < float("inf"):
            raise ValueError(f"`breaker_seconds` must be > 0, got {self.breaker_seconds}")
        if self.duplicate_window < 0:
            raise ValueError(f"`duplicate_window` must be >= 0, got {self.duplicate_window}")
        self.boundary_time()
        self.zone()

    def boundary_time(self) -> time:
        try:
            return time.fromisoformat(self.session_boundary)
        except ValueError:
            raise ValueError(
                f"`session_boundary` must be HH:MM, got {self.session_boundary!r}"
            ) from None

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.session_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown `session_timezone` {self.session_timezone!r}") from None


def _require_non_negative(name: str, value: Decimal | None) -> None:
    if value is not None and (not value.is_finite() or value < 0):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value}")
