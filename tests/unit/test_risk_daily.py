from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from actors.risk_daily import DailyLoss, next_boundary, trading_day
from actors.risk_limits import RiskLimits
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


def test_start_of_day_equity_resets_at_each_boundary() -> None:
    """Yesterday's loss does not count today: a new day takes a new start equity (000)."""
    daily = DailyLoss(RiskLimits(daily_loss_limit=D("0.05")))
    day1 = datetime(2026, 1, 5, 15, tzinfo=UTC)
    day2 = datetime(2026, 1, 6, 15, tzinfo=UTC)
    assert daily.observe(D(1000), day1) is None
    assert daily.observe(D(960), day1) is None
    assert daily.observe(D(960), day2) is None
    assert daily.start_equity == D(960)
    assert daily.observe(D(920), day2) is None
    assert daily.observe(D(912), day2) == "reducing"


def test_latch_outlives_the_boundary_until_resume() -> None:
    """A latch is not lifted by a new day; resume lifts it and counts from there."""
    daily = DailyLoss(RiskLimits(daily_loss_limit=D("0.05")))
    daily.observe(D(1000), datetime(2026, 1, 5, 15, tzinfo=UTC))
    assert daily.observe(D(900), datetime(2026, 1, 5, 16, tzinfo=UTC)) == "reducing"
    daily.observe(D(900), datetime(2026, 1, 6, 15, tzinfo=UTC))
    assert daily.latched == "reducing"
    daily.resume(D(900))
    assert daily.observe(D(899), datetime(2026, 1, 6, 16, tzinfo=UTC)) is None
    assert daily.latched is None


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        ({"session_boundary": "5pm"}, r"\[risk\]: `session_boundary` must be HH:MM"),
        ({"session_timezone": "Mars/Olympus"}, r"unknown `session_timezone`"),
        ({"max_order_qty": -1}, r"`max_order_qty` must be a finite number >= 0"),
        ({"loss_latch": "panic"}, r"\[risk\] loss_latch"),
        ({"max_notional": 5}, r"\[risk\] max_notional: unknown field"),
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
