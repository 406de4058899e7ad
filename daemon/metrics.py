"""Metrics in the Prometheus text format, counted from the journal's record stream.

Everything the daemon does that matters is a journal record, so the counters are derived
from ``Journal.watch()`` rather than sprinkled through the actors: signals by outcome,
order transitions, fills, risk denials, venue calls with a latency histogram, and the time
from an order's intent to its final state. Gauges
(orders by current state, stream health, halt, drift) are read when the page is rendered.
``tradingd metrics`` prints the page (for node_exporter's textfile collector, or a scrape
through a local proxy).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import attrs
import trio

from actors.order_state import State
from actors.records import (
    CorrectionRecorded,
    DriftRecorded,
    FillRecorded,
    IntentRecorded,
    OrderStateRecorded,
    RiskDenied,
    SignalRecorded,
    VenueCallRecorded,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from daemon.journal.store import Journal
    from daemon.webhook.auth import Throttle

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)
# A signal is acked within milliseconds; the coarse buckets above would put them all in one.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, math.inf)

# States in which the venue has taken the order: the first one seen ends "order ack" time.
_VENUE_ACKED = frozenset({"accepted", "partially_filled", "filled", "pending_cancel"})

# A signal's journal records after its ack: an outcome, not a second input line.
_LATER_OUTCOMES = frozenset({"incomplete", "superseded", "expired"})

HELP = {
    "tradingd_signals_total": "Input lines by ack status (accepted, duplicate, rejected).",
    "tradingd_signal_outcomes_total": (
        "Accepted signals that ended short of their orders, by outcome (incomplete, superseded)."
    ),
    "tradingd_order_transitions_total": "Order state transitions by the state entered.",
    "tradingd_fills_total": "Confirmed executions.",
    "tradingd_risk_denied_total": "Orders RiskGuard denied, by reason code.",
    "tradingd_venue_calls_total": "Venue REST calls by method and status class.",
    "tradingd_venue_call_errors_total": "Venue calls with no answer or a 5xx.",
    "tradingd_webhook_answers_total": "Webhook requests by the HTTP status answered.",
    "tradingd_webhook_throttled_total": (
        "Webhook requests answered 429, by why (rate_limit: an authenticated alert over its "
        "token's limit; auth_failures: a source over its budget of failed requests)."
    ),
    "tradingd_open_orders": "Orders not yet final, by state.",
    "tradingd_signal_ack_seconds": "Time from reading a signal to its ack (socket, stdin, webhook).",
    "tradingd_order_ack_seconds": "Time from an order's intent to the venue taking it.",
    "tradingd_venue_call_seconds": "Venue REST call latency.",
    "tradingd_order_final_seconds": "Time from an order's intent to its final state.",
    "tradingd_stream_healthy": "1 while the venue's order stream is connected and in sync.",
    "tradingd_halted": "1 while the kill switch or the daily-loss latch holds new entries.",
    "tradingd_runaway_breaker": "1 while the runaway breaker denies new entries (until resume).",
    "tradingd_orders_paced": "Orders waiting for room under the order-rate caps.",
    "tradingd_unresolved_orders": "Orders still on their way to a final state (resting bracket exits aside).",
    "tradingd_startup_drifts": "Differences between journal and venue found at startup.",
    "tradingd_drifts": "Drifts between journal and venue recorded in the journal, ever.",
    "tradingd_drifts_total": "Drifts recorded since start, by likely cause.",
    "tradingd_corrections_total": "Changes of a drift correction's status, by the status entered.",
    "tradingd_positions": "Symbols with a non-zero confirmed position.",
    "tradingd_signals_quarantined": (
        "Signals whose handling raised, journaled failed and not yet cleared (see `tradingd signals --failed`)."
    ),
    "tradingd_journal_transactions": "Journal transactions committed since start.",
}

Labels = tuple[tuple[str, str], ...]


@attrs.define
class Histogram:
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = attrs.field()
    total: float = 0.0
    count: int = 0

    @counts.default
    def _no_counts(self) -> list[int]:
        return [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1


@attrs.define
class Metrics:
    """Pure counters: records in, a text page out. Memory is bounded by open orders."""

    counters: Counter[tuple[str, Labels]] = attrs.field(factory=Counter)
    venue_latency: Histogram = attrs.field(factory=Histogram)
    order_latency: Histogram = attrs.field(factory=Histogram)  # intent -> final state
    # Fed by the sources (their own clock), not by records: a record has no arrival time.
    signal_ack_latency: Histogram = attrs.field(factory=lambda: Histogram(FAST_BUCKETS))
    order_ack_latency: Histogram = attrs.field(factory=lambda: Histogram(FAST_BUCKETS))
    _open_orders: dict[str, str] = attrs.field(factory=dict)  # client_order_id -> state
    _intent_at: dict[str, datetime] = attrs.field(factory=dict)
    _unacked: set[str] = attrs.field(factory=set)  # intents the venue has not yet taken

    def observe_signal_ack(self, seconds: float) -> None:
        """A source read a signal and wrote its ack ``seconds`` later."""
        self.signal_ack_latency.observe(seconds)

    def count_webhook_answer(self, status: int) -> None:
        """The webhook answered with HTTP ``status`` (a run of 401s is someone guessing)."""
        self._count("tradingd_webhook_answers_total", status=str(status))

    def count_webhook_throttle(self, why: Throttle) -> None:
        """The webhook refused a request with 429; an alert refused is an alert lost."""
        self._count("tradingd_webhook_throttled_total", why=why.value)

    def observe(self, record: object) -> None:
        match record:
            case SignalRecorded(status=status) if status in _LATER_OUTCOMES:
                # The executor's later word on a signal already counted at its ack.
                self._count("tradingd_signal_outcomes_total", outcome=status)
            case SignalRecorded(status=status):
                self._count("tradingd_signals_total", status=status)
            case IntentRecorded(request=request, at=at):
                self._intent_at[request.client_order_id] = at
                self._unacked.add(request.client_order_id)
            case OrderStateRecorded(client_order_id=cid, state=state, at=at):
                self._count("tradingd_order_transitions_total", state=state)
                if cid in self._unacked and (state in _VENUE_ACKED or _is_final(state)):
                    self._unacked.discard(cid)
                    if state in _VENUE_ACKED and cid in self._intent_at:
                        self.order_ack_latency.observe((at - self._intent_at[cid]).total_seconds())
                if _is_final(state):
                    self._open_orders.pop(cid, None)
                    intent_at = self._intent_at.pop(cid, None)
                    if intent_at is not None:
                        self.order_latency.observe((at - intent_at).total_seconds())
                else:
                    self._open_orders[cid] = state
            case FillRecorded():
                self._count("tradingd_fills_total")
            case RiskDenied(code=code):
                self._count("tradingd_risk_denied_total", code=code)
            case VenueCallRecorded(call=call):
                status = "none" if call.status is None else f"{call.status // 100}xx"
                self._count("tradingd_venue_calls_total", method=call.method, status=status)
                if call.error is not None or call.status is None or call.status >= 500:
                    self._count("tradingd_venue_call_errors_total", method=call.method)
                self.venue_latency.observe(call.latency_s)
            case DriftRecorded(cause=cause):
                self._count("tradingd_drifts_total", cause=cause)
            case CorrectionRecorded(status=status):
                # Each change of a correction's status: queued, then applied, stale, ...
                self._count("tradingd_corrections_total", status=status)

    def _count(self, name: str, **labels: str) -> None:
        self.counters[(name, tuple(sorted(labels.items())))] += 1

    def open_orders_by_state(self) -> dict[str, int]:
        return dict(Counter(self._open_orders.values()))

    def render(self, gauges: Mapping[str, float]) -> str:
        """The exposition text: counters, the histogram, then the given gauges."""
        lines: list[str] = []
        for name in sorted({n for n, _ in self.counters}):
            lines += _header(name, "counter")
            for (n, labels), value in sorted(self.counters.items()):
                if n == name:
                    lines.append(f"{name}{_labels(labels)} {value}")
        lines += _header("tradingd_open_orders", "gauge")
        for state, count in sorted(self.open_orders_by_state().items()):
            lines.append(f'tradingd_open_orders{{state="{state}"}} {count}')
        lines += _histogram("tradingd_signal_ack_seconds", self.signal_ack_latency)
        lines += _histogram("tradingd_order_ack_seconds", self.order_ack_latency)
        lines += _histogram("tradingd_venue_call_seconds", self.venue_latency)
        lines += _histogram("tradingd_order_final_seconds", self.order_latency)
        for gauge, level in sorted(gauges.items()):
            lines += _header(gauge, "gauge")
            lines.append(f"{gauge} {level:g}")
        return "\n".join(lines) + "\n"


def _header(name: str, kind: str) -> list[str]:
    help_text = HELP.get(name)
    lines = [f"# HELP {name} {help_text}"] if help_text else []
    return [*lines, f"# TYPE {name} {kind}"]


def _histogram(name: str, histogram: Histogram) -> list[str]:
    lines = _header(name, "histogram")
    for bound, hits in zip(histogram.buckets, histogram.counts, strict=True):
        le = "+Inf" if bound == math.inf else repr(bound)
        lines.append(f'{name}_bucket{{le="{le}"}} {hits}')
    lines.append(f"{name}_sum {histogram.total!r}")
    lines.append(f"{name}_count {histogram.count}")
    return lines


def _is_final(state: str) -> bool:
    try:
        return State(state).is_final
    except ValueError:
        return False


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    escaped = (
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels
    )
    return "{" + ",".join(escaped) + "}"


async def run_metrics(
    journal: Journal,
    metrics: Metrics,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Count every record the journal takes, until cancelled or the journal closes."""
    with journal.watch() as records:
        task_status.started()
        async for record in records:
            metrics.observe(record)
