"""TradingView alert bodies onto signal lines: mapping, derived ids, and fuzzing."""

from __future__ import annotations

import contextlib
import hashlib
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


def test_order_id_and_bar_time_tell_apart_two_alerts_of_one_second() -> None:
    """Same {{timenow}} second: a different strategy order or bar is another signal; the
    same body again is the same one."""
    body = {"ticker": "AAPL", "action": "buy", "contracts": 1, "time": "2026-11-23T10:00:00Z"}
    entry = {**body, "order_id": "Long", "bar_time": "1795428000000"}
    assert signal_of(entry)["id"] == signal_of(dict(entry))["id"]
    assert signal_of(entry)["id"] != signal_of({**entry, "order_id": "Long 2"})["id"]
    assert signal_of(entry)["id"] != signal_of({**entry, "bar_time": "1795428060000"})["id"]
    assert signal_of(entry)["id"] != signal_of(body)["id"]
    # Without `time`, a strategy order's alert is not tied to the minute it arrived in.
    untimed = {k: v for k, v in entry.items() if k != "time"}
    later = alert_to_signal(parse_alert(msgspec.json.encode(untimed)), "tv", NOW.replace(minute=5))
    assert msgspec.json.decode(later)["id"] == signal_of(untimed)["id"]


def test_alerts_without_order_id_or_bar_time_keep_the_ids_they_had() -> None:
    """The id of an alert written the older way is unchanged: one re-sent across an upgrade
    is still a duplicate."""
    body = {"ticker": "AAPL", "action": "buy", "contracts": 1, "time": "2026-11-23T10:00:00Z"}
    layout = ["tv", "AAPL", "buy", "1", "None", None, None, "2026-11-23T10:00:00Z"]
    expected = "tv-" + hashlib.sha256(msgspec.json.encode(layout)).hexdigest()[:32]
    assert signal_of(body)["id"] == expected


def test_order_id_and_bar_time_are_bounded_like_every_field() -> None:
    """A value past 256 characters is a 400, not a key of any length."""
    for field in ("order_id", "bar_time"):
        with pytest.raises(BadAlert, match=field):
            parse_alert(msgspec.json.encode({"ticker": "AAPL", field: "x" * 257}))


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
