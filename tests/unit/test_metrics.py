"""Metrics counted from journal records and rendered in the Prometheus text format."""

from __future__ import annotations

from datetime import UTC, datetime

from actors.records import OrderStateRecorded, RiskDenied, SignalRecorded, VenueCallRecorded
from brokers.base import VenueCall
from daemon.metrics import Metrics

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
