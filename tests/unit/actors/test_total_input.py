"""Outside input of any magnitude, precision or shape gets a rejection with a short reason:
parsing, risk, rebalance planning, the webhook mapping and control requests never raise."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import msgspec
import pytest

from actors.messages import BadSignal, Denied, parse_signal
from actors.router.rebalance import Skipped, plan_rebalance
from actors.signal_bounds import MAX_REASON_CHARS, bounded
from brokers.base import Asset, OrderType
from daemon.control.server import ControlReply, ControlRequest, is_control_line, parse_request
from daemon.webhook.alerts import BadAlert, TradingViewAlert, alert_to_signal
from tests.builders import request
from tests.unit.actors.risk.test_risk_guard import guard

# Each killed ``tradingd run --once`` with DivisionImpossible at ``qty % step`` in risk.
BEYOND_DECIMALS_CONTEXT = [
    b'{"id":"a","symbol":"AAPL","action":"buy","qty":"1e999999"}',
    b'{"id":"d","symbol":"AAPL","action":"target","target_qty":"-1e30"}',
    b'{"id":"e","symbol":"AAPL","action":"buy","qty":"123456789012345678901234567890.123456789"}',
    b'{"id":"v","symbol":"AAPL","action":"buy","qty":1e400}',
]


def rejection(line: bytes) -> BadSignal:
    with pytest.raises(BadSignal) as caught:
        parse_signal(line)
    assert len(str(caught.value)) <= MAX_REASON_CHARS
    return caught.value


@pytest.mark.parametrize("line", BEYOND_DECIMALS_CONTEXT)
def test_a_quantity_beyond_decimals_context_is_rejected_with_its_id(line: bytes) -> None:
    """A quantity no venue trades, however large or long, is a rejection naming its bound."""
    error = rejection(line)
    assert error.signal_id is not None
    assert "at most 1000000000" in str(error)


@pytest.mark.parametrize(
    "field", ["limit_price", "stop_price", "take_profit", "stop_loss", "target_qty"]
)
@pytest.mark.parametrize("value", ["1e500000", "1e-999999", "-1e999999999"])
def test_prices_and_targets_out_of_bounds_are_rejected_in_a_short_reason(
    field: str, value: str
) -> None:
    """Huge and tiny exponents are refused at parse time, the reason quoting them short."""
    line = msgspec.json.encode(
        {"id": "p", "symbol": "AAPL", "action": "buy", "qty": 1, "order_type": "stop_limit"}
        | {"limit_price": "10", "stop_price": "10", field: value}
    )
    assert field in str(rejection(line))


def test_a_limit_price_of_a_million_digits_is_rejected_in_a_short_reason() -> None:
    """A 16 KiB run of digits is quoted in forty characters, not repeated whole."""
    line = msgspec.json.encode(
        {"id": "f", "symbol": "AAPL", "action": "buy", "qty": 1, "order_type": "limit"}
        | {"limit_price": "9" * 15000}
    )
    assert "(15000 chars)" in str(rejection(line))


def test_a_huge_unknown_action_is_rejected_in_a_short_reason() -> None:
    """msgspec quotes an invalid enum value; the reason keeps only its start."""
    line = msgspec.json.encode({"id": "x", "symbol": "AAPL", "action": "x" * 15000})
    assert rejection(line).signal_id == "x"


def test_rebalance_weights_out_of_bounds_are_rejected() -> None:
    """A weight with more than 18 decimal places, or above 1, is refused by name."""
    for weight in ["1e-999999", "1e-30", "2", "sNaN"]:
        line = msgspec.json.encode(
            {"id": "r", "action": "rebalance", "targets": {"AAPL": "0.5", "MSFT": weight}}
        )
        assert "targets.MSFT" in str(rejection(line))


def test_numbers_within_bounds_are_kept_exactly_in_canonical_form() -> None:
    """Trailing zeros, exponents and zeros with huge exponents are the same numbers, written
    plainly."""
    line = msgspec.json.encode(
        {"id": "c", "symbol": "AAPL", "action": "buy", "qty": "1.50000000000000000000"}
        | {"order_type": "limit", "limit_price": "1e3"}
    )
    signal = parse_signal(line)
    assert str(signal.qty) == "1.5"
    assert str(signal.limit_price) == "1000"
    target = parse_signal(b'{"id":"z","symbol":"AAPL","action":"target","target_qty":"0E-999999"}')
    assert target.target_qty == 0
    assert str(target.target_qty) == "0"
    weights = parse_signal(
        b'{"id":"w","action":"rebalance","targets":{"AAPL":"0.333333333333333333"}}'
    )
    assert weights.targets == {"AAPL": D("0.333333333333333333")}


def test_bounds_allow_the_largest_and_finest_numbers_they_name() -> None:
    """1e9 shares and a billionth of one are inside the bounds; one step beyond is not."""
    limit = D(10**9)
    assert bounded("qty", D("1000000000.000000000"), limit=limit, places=9) == limit
    assert bounded("qty", D("1e-9"), limit=limit, places=9) == D("1e-9")
    with pytest.raises(ValueError, match="at most"):
        bounded("qty", D("1000000000.000000001"), limit=limit, places=9)
    with pytest.raises(ValueError, match="decimal places"):
        bounded("qty", D("1e-10"), limit=limit, places=9)


def test_a_key_written_twice_is_rejected() -> None:
    """Which of two `qty` values a sender meant is a guess: the line trades nothing."""
    error = rejection(b'{"id":"k","symbol":"AAPL","action":"buy","qty":1,"qty":100}')
    assert "duplicate key 'qty'" in str(error)
    assert error.signal_id == "k"
    assert rejection(b'{"id":"r","id":"s","symbol":"AAPL","action":"close"}').signal_id is None


@pytest.mark.parametrize(
    "line",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"id":"n","symbol":"AAPL","action":"buy","qty":' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"strategy":' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
)
def test_nesting_deeper_than_the_decoder_descends_is_rejected(line: bytes) -> None:
    """A few thousand levels of nesting is a rejection, not a RecursionError out of the
    router; the control socket treats it as a signal line, not a question."""
    rejection(line)
    assert not is_control_line(line)
    assert isinstance(parse_request(line), ControlReply)


def test_a_float_out_of_range_rejection_still_carries_the_id() -> None:
    """`confidence: 1e400` is out of a float's range; the ack still names the signal."""
    line = b'{"id":"g","symbol":"AAPL","action":"buy","qty":1,"confidence":1e400}'
    assert rejection(line).signal_id == "g"


def test_risk_denies_a_quantity_whose_remainder_decimal_cannot_compute() -> None:
    """An order quantity past decimal's precision is denied `bad_number`, never raised."""
    core = guard("1000", "10")
    core.assets = {
        "AAPL": Asset(symbol="AAPL", tradable=True, fractionable=True, min_trade_increment=D(1))
    }
    decision = core.decide(request("a", qty="1e999999"), D(0), now=1.0)
    assert isinstance(decision, Denied)
    assert decision.code == "bad_number"
    assert "DivisionImpossible" in decision.detail
    assert core.reserved == 0


def test_risk_reasons_quote_a_huge_limit_price_short() -> None:
    """A denial quoting the notional of a 1e500000 limit price stays a short reason."""
    core = guard("1000", "10")
    core.limits = msgspec.structs.replace(core.limits, max_order_notional=D(1000))
    order = request("b", qty="1", order_type=OrderType.LIMIT, limit_price="1e500000")
    decision = core.decide(order, D(0), now=1.0)
    assert isinstance(decision, Denied)
    assert decision.code == "max_order_notional"
    assert len(decision.detail) <= MAX_REASON_CHARS


def test_rebalance_skips_a_symbol_whose_sizing_overflows() -> None:
    """An equity and a price no sane leg comes from skip that symbol, saying why."""
    plan = plan_rebalance(
        {"AAPL": D("0.5"), "MSFT": D("0.5")},
        D("9e999999"),
        {"AAPL": D("1e-999999"), "MSFT": D(10)},
        {},
    )
    assert plan.skipped[0] == Skipped("AAPL", "bad_number: Overflow")
    assert [leg.symbol for leg in plan.buys] == ["MSFT"]


def test_a_signalling_nan_position_size_is_a_bad_alert() -> None:
    """`position_size: sNaN` with a market position refuses the alert with a reason."""
    alert = TradingViewAlert(ticker="AAPL", position_size=D("sNaN"), market_position="short")
    with pytest.raises(BadAlert, match="position_size"):
        alert_to_signal(alert, "tv", datetime(2026, 1, 5, tzinfo=UTC))


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_control_time_without_a_utc_equivalent_is_an_error_reply(since: str) -> None:
    """A valid time with no UTC equivalent is refused before a journal query overflows."""
    line = msgspec.json.encode({"kind": "control", "command": "audit", "since": since})
    reply = parse_request(line)
    assert isinstance(reply, ControlReply)
    assert reply.error == "`since` is out of range in UTC"


def test_control_ids_and_symbols_beyond_what_the_journal_holds_are_refused() -> None:
    """A correction id past SQLite's integers, or a 10 KB symbol, is an error reply."""
    approve = b'{"kind":"control","command":"approve","id":9223372036854775808}'
    assert isinstance(parse_request(approve), ControlReply)
    orders = msgspec.json.encode({"kind": "control", "command": "orders", "symbol": "x" * 10000})
    assert isinstance(parse_request(orders), ControlReply)
    largest = b'{"kind":"control","command":"approve","id":9223372036854775807}'
    assert isinstance(parse_request(largest), ControlRequest)
