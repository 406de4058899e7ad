from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from actors.risk.core_daily import (
    DailyLoss,
    DailyState,
    next_boundary,
    trading_day,
    venue_trading_day,
)
from actors.risk.limits import RiskLimits
from brokers.base import MarketClock
from daemon.config import ConfigError, parse_config

FUTURES = RiskLimits(session_boundary="17:00", session_timezone="America/Chicago")


def test_futures_session_day_starts_at_17_chicago() -> None:
    """16:59 Chicago is still the old session; 17:00 starts the next one."""
    before = datetime(2026, 1, 5, 22, 59, tzinfo=UTC)  # 16:59 CST
    after = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)  # 17:00 CST
    assert trading_day(before, FUTURES).isoformat() == "2026-01-04"
    assert trading_day(after, FUTURES).isoformat() == "2026-01-05"
    assert next_boundary(before, FUTURES) == after


def test_boundary_follows_daylight_saving() -> None:
    """Midnight New York is 05:00 UTC in winter and 04:00 UTC in summer."""
    limits = RiskLimits()
    assert next_boundary(datetime(2026, 1, 5, 12, tzinfo=UTC), limits) == datetime(
        2026, 1, 6, 5, tzinfo=UTC
    )
    assert next_boundary(datetime(2026, 7, 5, 12, tzinfo=UTC), limits) == datetime(
        2026, 7, 6, 4, tzinfo=UTC
    )


MONDAY, TUESDAY = date(2026, 1, 5), date(2026, 1, 6)


def test_venue_trading_day_is_the_date_of_the_next_close() -> None:
    """The day ends at the clock's next close (New York date); past it, read the clock."""
    clock = MarketClock(
        timestamp=datetime(2026, 1, 5, 15, tzinfo=UTC),
        is_open=True,
        next_open=datetime(2026, 1, 6, 14, 30, tzinfo=UTC),
        next_close=datetime(2026, 1, 5, 21, tzinfo=UTC),
    )
    limits = RiskLimits()
    assert venue_trading_day(clock, datetime(2026, 1, 5, 20, 59, tzinfo=UTC), limits) == MONDAY
    assert venue_trading_day(clock, datetime(2026, 1, 5, 21, tzinfo=UTC), limits) is None


def test_start_of_day_equity_resets_at_each_boundary() -> None:
    """Yesterday's loss does not count today: a new day takes a new start equity (000)."""
    daily = DailyLoss(RiskLimits(daily_loss_limit=D("0.05")))
    day1, day2 = MONDAY, TUESDAY
    assert daily.observe(D(1000), day1) is None
    assert daily.observe(D(960), day1) is None
    assert daily.observe(D(960), day2) is None
    assert daily.start_equity == D(960)
    assert daily.observe(D(920), day2) is None
    assert daily.observe(D(912), day2) == "reducing"


def test_latch_outlives_the_boundary_until_resume() -> None:
    """A latch is not lifted by a new day; resume lifts it and counts from there."""
    daily = DailyLoss(RiskLimits(daily_loss_limit=D("0.05")))
    daily.observe(D(1000), MONDAY)
    assert daily.observe(D(900), MONDAY) == "reducing"
    daily.observe(D(900), TUESDAY)
    assert daily.latched == "reducing"
    daily.resume(D(900))
    assert daily.observe(D(899), TUESDAY) is None
    assert daily.latched is None


def test_a_start_mid_day_counts_from_the_previous_close() -> None:
    """A daemon that did not see the day begin takes the venue's last_equity as its start,
    so the loss made before it started still counts."""
    daily = DailyLoss(RiskLimits(daily_loss_limit=D("0.05")))
    assert daily.observe(D(940), TUESDAY, last_equity=D(1000)) == "reducing"
    assert daily.start_equity == D(1000)


def test_a_boundary_seen_while_running_takes_the_equity_then() -> None:
    """The venue's last_equity is only for the first look: a boundary crossed while running
    starts from the equity seen at it."""
    daily = DailyLoss(RiskLimits(daily_loss_limit=D("0.05")))
    daily.observe(D(1000), MONDAY, last_equity=D(1000))
    daily.observe(D(960), TUESDAY, last_equity=D(1000))
    assert daily.start_equity == D(960)


def test_a_restored_day_keeps_its_start_and_latch() -> None:
    """After a restart on the same day the journaled start equity and latch hold; the
    venue's last_equity is not used for a day already begun."""
    daily = DailyLoss(RiskLimits(daily_loss_limit=D("0.05")))
    daily.restore(DailyState(TUESDAY, D(1200), "reducing"))
    assert daily.observe(D(1190), TUESDAY, last_equity=D(1000)) is None
    assert (daily.start_equity, daily.latched) == (D(1200), "reducing")


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        ({"session_boundary": "5pm"}, r"\[risk\]: `session_boundary` must be HH:MM"),
        ({"session_timezone": "Mars/Olympus"}, r"unknown `session_timezone`"),
        ({"max_order_qty": -1}, r"`max_order_qty` must be a finite number >= 0"),
        ({"loss_latch": "panic"}, r"\[risk\] loss_latch"),
        ({"max_notional": 5}, r"\[risk\] max_notional: unknown field"),
        ({"trading_day": "moon"}, r"\[risk\] trading_day"),
        ({"sizing": {"method": "kelly"}}, r"\[risk\] sizing.method"),
        ({"sizing": {"notional": 0}}, r"`sizing.notional` must be > 0"),
        ({"sizing": {"equity_fraction": 1.5}}, r"`sizing.equity_fraction` must be in"),
        ({"sizing": {"target_volatility": 0}}, r"`sizing.target_volatility` must be > 0"),
    ],
)
def test_bad_risk_config_is_an_error_naming_the_field(
    risk: dict[str, object], message: str
) -> None:
    """A wrong `[risk]` value is a config error that says what is wrong."""
    with pytest.raises(ConfigError, match=message):
        parse_config({"risk": risk}, source="tradingd.toml")


def test_risk_config_reads_sector_caps() -> None:
    """Sector maps and caps come from TOML tables, as Decimals."""
    config = parse_config(
        {"risk": {"sectors": {"AAPL": "tech"}, "sector_caps": {"tech": 0.3}}},
        source="tradingd.toml",
    )
    assert config.risk.sector_caps == {"tech": D("0.3")}
    assert config.risk.sectors == {"AAPL": "tech"}


def test_risk_config_reads_a_sizing_policy() -> None:
    """`[risk.sizing]` is a table; leaving it out means no policy."""
    config = parse_config(
        {"risk": {"sizing": {"method": "equity_fraction", "equity_fraction": "0.02"}}},
        source="tradingd.toml",
    )
    assert config.risk.sizing is not None
    assert config.risk.sizing.equity_fraction == D("0.02")
    assert parse_config({}, source="tradingd.toml").risk.sizing is None
