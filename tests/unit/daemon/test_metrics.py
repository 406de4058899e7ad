"""Metrics counted from journal records and rendered in the Prometheus text format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actors.records import (
    IntentRecorded,
    OrderStateRecorded,
    RiskDenied,
    SignalRecorded,
    VenueCallRecorded,
)
from brokers.base import VenueCall
from daemon.metrics import Metrics
from daemon.webhook.auth import Throttle
from tests.builders import request
from tests.prometheus_text import ExpositionError, parse_exposition, value

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)


def signal(status: str, source: str) -> SignalRecorded:
    return SignalRecorded(at=AT, signal_id="s", source=source, raw="{}", status=status)


def state(cid: str, value: str) -> OrderStateRecorded:
    return OrderStateRecorded(at=AT, client_order_id=cid, symbol="AAPL", state=value)


def call(status: int | None, latency: float) -> VenueCallRecorded:
    return VenueCallRecorded(
        at=AT,
        call=VenueCall(method="POST", path="/v2/orders", status=status, latency_s=latency, at=AT),
    )


def test_counters_and_open_orders_follow_the_records() -> None:
    """Signals by outcome, open orders by state (final ones forgotten), risk denials by code."""
    metrics = Metrics()
    for record in (
        signal("accepted", "webhook:tv-main"),
        signal("accepted", "/run/tradingd/tradingd.sock"),
        signal("duplicate", "stdin"),
        state("a", "sending"),
        state("b", "accepted"),
        state("a", "filled"),
        RiskDenied(at=AT, client_order_id="c", symbol="AAPL", code="halted", detail="x"),
    ):
        metrics.observe(record)
    page = metrics.render({}).splitlines()
    assert 'tradingd_signals_total{status="accepted"} 2' in page
    assert 'tradingd_signals_total{status="duplicate"} 1' in page
    assert 'tradingd_order_transitions_total{state="filled"} 1' in page
    assert 'tradingd_risk_denied_total{code="halted"} 1' in page
    assert metrics.open_orders_by_state() == {"accepted": 1}
    assert 'tradingd_open_orders{state="accepted"} 1' in page


def test_venue_calls_fill_the_latency_histogram_and_count_errors() -> None:
    """Buckets are cumulative; no response or a 5xx is an error."""
    metrics = Metrics()
    for record in (call(200, 0.02), call(503, 0.3), call(None, 12.0)):
        metrics.observe(record)
    page = metrics.render({"tradingd_stream_healthy": 1.0}).splitlines()
    assert 'tradingd_venue_call_seconds_bucket{le="0.025"} 1' in page
    assert 'tradingd_venue_call_seconds_bucket{le="0.5"} 2' in page
    assert 'tradingd_venue_call_seconds_bucket{le="+Inf"} 3' in page
    assert "tradingd_venue_call_seconds_count 3" in page
    assert 'tradingd_venue_call_errors_total{method="POST"} 2' in page
    assert 'tradingd_venue_calls_total{method="POST",status="5xx"} 1' in page
    assert page[-2:] == ["# TYPE tradingd_stream_healthy gauge", "tradingd_stream_healthy 1"]


def intent(cid: str, at: datetime) -> IntentRecorded:
    return IntentRecorded(at=at, signal_id=cid, leg="entry", request=request(cid=cid))


def test_order_ack_latency_runs_from_intent_to_the_venue_taking_the_order() -> None:
    """Counted once per order, at its first venue-acked state; a rejection never counts."""
    metrics = Metrics()
    for record in (
        intent("a", AT),
        intent("b", AT),
        state("a", "sending"),
        OrderStateRecorded(
            at=AT + timedelta(milliseconds=4), client_order_id="a", symbol="AAPL", state="accepted"
        ),
        OrderStateRecorded(
            at=AT + timedelta(milliseconds=9), client_order_id="a", symbol="AAPL", state="filled"
        ),
        state("b", "rejected"),
    ):
        metrics.observe(record)
    ack = metrics.order_ack_latency
    assert (ack.count, ack.total) == (1, 0.004)
    assert ack.counts[:3] == [0, 0, 1]  # 0.004 s falls in the 5 ms bucket


def test_signal_ack_latency_is_fed_by_the_sources() -> None:
    """Sources report read-to-ack times; the page shows them in millisecond buckets."""
    metrics = Metrics()
    for seconds in (0.0004, 0.003, 0.2):
        metrics.observe_signal_ack(seconds)
    families = parse_exposition(metrics.render({}))
    assert value(families, "tradingd_signal_ack_seconds_bucket", le="0.001") == 1
    assert value(families, "tradingd_signal_ack_seconds_bucket", le="0.005") == 2
    assert value(families, "tradingd_signal_ack_seconds_count") == 3


def test_the_page_parses_back_as_valid_exposition_text() -> None:
    """Every family typed once and documented, series unique, labels escaped, histograms
    cumulative with _count equal to the +Inf bucket."""
    metrics = Metrics()
    for record in (
        signal("accepted", "stdin"),
        signal("rejected", "stdin"),
        intent("a", AT),
        state("a", "sending"),
        state("a", "accepted"),
        state("a", "filled"),
        RiskDenied(at=AT, client_order_id="c", symbol="AAPL", code='odd "code" \\ here', detail=""),
        call(200, 0.02),
        call(None, 30.0),
    ):
        metrics.observe(record)
    metrics.observe_signal_ack(0.002)
    page = metrics.render({"tradingd_stream_healthy": 1.0, "tradingd_halted": 0.0})
    families = parse_exposition(page)
    assert {name for name, family in families.items() if family.help is None} == set()
    assert families["tradingd_order_ack_seconds"].kind == "histogram"
    assert value(families, "tradingd_risk_denied_total", code='odd \\"code\\" \\\\ here') == 1
    assert value(families, "tradingd_venue_call_seconds_count") == 2
    assert value(families, "tradingd_venue_call_seconds_bucket", le="+Inf") == 2
    assert value(families, "tradingd_stream_healthy") == 1


@pytest.mark.parametrize(
    ("page", "complaint"),
    [
        ("x 1\n", "outside its family"),
        ("# TYPE x gauge\nx 1\nx 2\n", "repeated series"),
        ("# TYPE x gauge\nx{a=b} 1\n", "not a sample"),
        (
            '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
            "not cumulative",
        ),
        ("# TYPE x gauge\nx 1", "newline"),
    ],
)
def test_the_reader_refuses_broken_pages(page: str, complaint: str) -> None:
    """The parse-back check can fail: each defect is named."""
    with pytest.raises(ExpositionError, match=complaint):
        parse_exposition(page)


def test_a_later_outcome_of_an_acked_signal_is_counted_apart() -> None:
    """A queued signal superseded, or a flip stopped at flat, counts as an outcome, not again
    as an input line: tradingd_signals_total keeps one count per line read."""
    metrics = Metrics()
    for record in (
        signal("accepted", "stdin"),
        signal("accepted", "stdin"),
        signal("superseded", "router"),
        signal("incomplete", "router"),
        signal("incomplete", "router"),
    ):
        metrics.observe(record)
    page = metrics.render({}).splitlines()
    families = parse_exposition("\n".join(page) + "\n")
    assert value(families, "tradingd_signals_total", status="accepted") == 2
    assert 'tradingd_signals_total{status="superseded"}' not in "\n".join(page)
    assert 'tradingd_signals_total{status="incomplete"}' not in "\n".join(page)
    assert value(families, "tradingd_signal_outcomes_total", outcome="superseded") == 1
    assert value(families, "tradingd_signal_outcomes_total", outcome="incomplete") == 2


def test_webhook_refusals_are_counted_by_why() -> None:
    """Every 429 the webhook answers is counted, authenticated alerts apart from floods."""
    metrics = Metrics()
    for why in (Throttle.RATE_LIMIT, Throttle.AUTH_FAILURES, Throttle.AUTH_FAILURES):
        metrics.count_webhook_throttle(why)
    page = metrics.render({}).splitlines()
    assert 'tradingd_webhook_throttled_total{why="rate_limit"} 1' in page
    assert 'tradingd_webhook_throttled_total{why="auth_failures"} 2' in page
    assert "# TYPE tradingd_webhook_throttled_total counter" in page
