"""TradingView alert bodies onto signal lines: mapping, derived ids, and fuzzing."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.messages import BadSignal, parse_signal
from daemon.webhook.alerts import BadAlert, alert_to_signal, parse_alert
from tests.strategies import alert_like_bodies

NOW = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)


def signal_of(body: dict[str, Any]) -> dict[str, Any]:
    line = alert_to_signal(parse_alert(msgspec.json.encode(body)), "tv", NOW)
    decoded: dict[str, Any] = msgspec.json.decode(line)
    return decoded


def test_position_size_becomes_a_target_signed_by_market_position() -> None:
    """position_size is the goal; market_position short makes it negative, flat makes it 0."""
    short = signal_of({"ticker": "aapl", "position_size": "5", "market_position": "short"})
    assert short["target_qty"] == "-5"
    assert signal_of({"ticker": "AAPL", "position_size": -3})["target_qty"] == "-3"
    flat = signal_of({"ticker": "AAPL", "market_position": "flat", "action": "sell"})
    assert (flat["action"], flat["target_qty"], flat["symbol"]) == ("target", "0", "AAPL")


def test_action_and_contracts_become_a_buy_or_sell() -> None:
    """Without position_size, strategy.order.action and contracts are the order itself."""
    signal = signal_of({"ticker": "AAPL", "action": "SELL", "contracts": "1.5"})
    assert (signal["action"], signal["qty"]) == ("sell", "1.5")
    assert Decimal(signal["qty"]) == Decimal("1.5")
    with pytest.raises(BadAlert, match="buy or sell"):
        signal_of({"ticker": "AAPL", "action": "hold", "contracts": 1})


def test_identical_alerts_share_an_id_and_different_ones_do_not() -> None:
    """The derived id covers the content and the minute (or the alert's own time)."""
    body = {"ticker": "AAPL", "action": "buy", "contracts": 1}
    assert signal_of(body)["id"] == signal_of(dict(body))["id"]
    assert signal_of(body)["id"] != signal_of({**body, "contracts": 2})["id"]
    assert signal_of(body)["id"] != signal_of({**body, "time": "2026-11-23T10:00:00Z"})["id"]
    later = alert_to_signal(parse_alert(msgspec.json.encode(body)), "tv", NOW.replace(minute=1))
    assert msgspec.json.decode(later)["id"] != signal_of(body)["id"]
    assert signal_of({**body, "id": "mine"})["id"] == "mine"


def test_the_signal_line_is_a_valid_signal_for_the_router() -> None:
    """What the webhook hands over parses as a Signal, strategy label included."""
    line = alert_to_signal(
        parse_alert(b'{"ticker":"MSFT","position_size":2,"strategy":"trend"}'), "tv", NOW
    )
    signal = parse_signal(line)
    assert (signal.symbol, signal.target_qty, signal.strategy) == ("MSFT", Decimal(2), "trend")


@given(body=alert_like_bodies | st.binary(max_size=200).map(lambda b: {"raw": b.hex()}))
def test_any_alert_body_is_a_signal_line_or_a_bad_alert(body: dict[str, Any]) -> None:
    """Never a crash: a body either maps to a line the router can judge, or to BadAlert."""
    try:
        line = alert_to_signal(parse_alert(msgspec.json.encode(body)), "tv", NOW)
    except BadAlert:
        return
    with contextlib.suppress(BadSignal):  # the router rejects it with a reason: an ack
        parse_signal(line)


@given(raw=st.binary(max_size=300))
def test_any_bytes_are_an_alert_or_a_bad_alert(raw: bytes) -> None:
    """Arbitrary bytes never raise anything but BadAlert."""
    with contextlib.suppress(BadAlert):
        parse_alert(raw)
