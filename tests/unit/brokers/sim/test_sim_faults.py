"""The paper venue's fault plan: what each armed fault does to the next requests."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from brokers.sim.alpaca.events import PendingStates
from brokers.sim.faults import FaultError, FaultPlan, Immediate

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_http_status_answers_count_times_then_stops() -> None:
    """http_status is used up after `count` requests."""
    plan = FaultPlan()
    plan.configure({"fault": "http_status", "status": 502, "count": 2})
    answers = [plan.take_http_status(NOW) for _ in range(3)]
    assert [a.status if a else None for a in answers] == [502, 502, None]
    assert answers[0] is not None
    assert answers[0].body == {"code": 50200000, "message": "bad gateway"}


def test_429_carries_rate_limit_headers_with_a_reset_after_now() -> None:
    """A 429 answer has Alpaca's rate-limit headers; the reset is after now."""
    plan = FaultPlan()
    plan.configure({"fault": "http_status", "status": 429})
    answer = plan.take_http_status(NOW)
    assert answer is not None
    assert answer.headers["X-Ratelimit-Remaining"] == "0"
    assert int(answer.headers["X-Ratelimit-Reset"]) > NOW.timestamp()


def test_reject_next_keeps_only_the_given_fields() -> None:
    """reject_next without code or message yields an empty body; status defaults to 403."""
    plan = FaultPlan()
    plan.configure({"fault": "reject_next", "count": 1})
    rejection = plan.take_rejection()
    assert rejection is not None
    assert (rejection.status, rejection.body) == (403, {})
    assert plan.take_rejection() is None


def test_lose_response_and_delay_acks() -> None:
    """lose_response counts down; delay_acks applies to its symbol only."""
    plan = FaultPlan()
    plan.configure({"fault": "lose_response", "count": 1})
    plan.configure({"fault": "delay_acks", "ms": 250, "symbol": "aapl"})
    assert [plan.take_lost_response(), plan.take_lost_response()] == [True, False]
    assert (plan.ack_delay("AAPL"), plan.ack_delay("MSFT")) == (0.25, 0.0)


def test_drop_stream_is_immediate_and_clear_resets_everything() -> None:
    """drop_stream asks for an immediate action; clear disarms every fault."""
    plan = FaultPlan()
    assert plan.configure({"fault": "drop_stream"}) is Immediate.DROP_STREAM
    plan.configure({"fault": "duplicate_events"})
    plan.configure({"fault": "http_status", "status": 500, "count": 3})
    assert plan.configure({"fault": "clear"}) is Immediate.NOTHING
    assert plan.duplicate_events is False
    assert plan.take_http_status(NOW) is None


@pytest.mark.parametrize(
    "spec",
    [
        {"fault": "meteor"},
        {"fault": "http_status"},
        {"fault": "http_status", "status": 200},
        {"fault": "lose_response", "count": -1},
        {"fault": "delay_acks", "ms": "soon"},
        {"fault": "stall_stream"},
        {"fault": "stall_stream", "seconds": -1},
        {"fault": "pending_cancel", "ms": -1},
        {"fault": "reject_after_accept", "count": "two"},
    ],
)
def test_unreadable_fault_requests_are_refused(spec: dict[str, object]) -> None:
    """Unknown faults and bad parameters raise FaultError."""
    with pytest.raises(FaultError):
        FaultPlan().configure(spec)


def test_stream_faults_arm_and_clear() -> None:
    """stall_stream is immediate with its seconds; reorder and miss-cancel arm until cleared."""
    plan = FaultPlan()
    assert plan.configure({"fault": "stall_stream", "seconds": 2.5}) is Immediate.STALL_STREAM
    assert plan.stall_seconds == 2.5
    plan.configure({"fault": "reorder_events"})
    plan.configure({"fault": "miss_bracket_cancel"})
    assert (plan.reorder_events, plan.miss_bracket_cancel) == (True, True)
    plan.configure({"fault": "reorder_events", "on": False})
    assert plan.reorder_events is False
    plan.configure({"fault": "clear"})
    assert plan.miss_bracket_cancel is False


def test_lifecycle_options_arm_separately_and_clear() -> None:
    """Each pending option, done_for_day and reject_after_accept's count arm on their own;
    clear turns them all off."""
    plan = FaultPlan()
    plan.configure({"fault": "pending_new"})
    plan.configure({"fault": "pending_replace"})
    plan.configure({"fault": "done_for_day"})
    plan.configure({"fault": "reject_after_accept", "count": 2})
    assert plan.pending_states == PendingStates(new=True, replace=True)
    assert plan.done_for_day is True
    assert [plan.take_reject_after_accept() for _ in range(3)] == [True, True, False]
    plan.configure({"fault": "pending_new", "on": False})
    assert plan.pending_states == PendingStates(replace=True)
    plan.configure({"fault": "pending_cancel", "ms": 250})
    assert (plan.pending_states.cancel, plan.cancel_delay) == (True, 0.25)
    plan.configure({"fault": "pending_cancel", "on": False, "ms": 250})
    assert (plan.pending_states.cancel, plan.cancel_delay) == (False, 0.0)
    plan.configure({"fault": "reject_after_accept"})
    plan.configure({"fault": "clear"})
    assert (plan.pending_states, plan.done_for_day) == (PendingStates(), False)
    assert plan.take_reject_after_accept() is False


def test_every_documented_fault_example_is_accepted() -> None:
    """Each curl example in the venue's README is a fault request the plan accepts."""
    readme = Path(__file__).resolve().parents[4] / "brokers" / "sim" / "README.md"
    examples = re.findall(r"_sim/faults -d '(\{.*?\})'", readme.read_text(encoding="utf-8"))
    names = set()
    for example in examples:
        spec = json.loads(example)
        if spec.get("front") == "tradovate":
            continue  # the Tradovate front's own faults, checked with that front
        FaultPlan().configure(spec)
        names.add(spec["fault"])
    assert names == {
        "drop_stream",
        "stall_rest",
        "rest_latency",
        "stall_stream",
        "duplicate_events",
        "reorder_events",
        "lose_response",
        "delay_acks",
        "http_status",
        "reject_next",
        "miss_bracket_cancel",
        "reject_after_accept",
        "pending_new",
        "pending_cancel",
        "pending_replace",
        "done_for_day",
        "clear",
    }


def test_http_status_with_retry_after_sends_the_header_on_any_status() -> None:
    """retry_after adds Retry-After, on a 503 as on a 429 (which keeps its rate headers)."""
    plan = FaultPlan()
    plan.configure({"fault": "http_status", "status": 503, "count": 1, "retry_after": 7})
    answer = plan.take_http_status(NOW)
    assert answer is not None
    assert answer.headers == {"Retry-After": "7"}
    plan.configure({"fault": "http_status", "status": 429, "retry_after": 3})
    limited = plan.take_http_status(NOW)
    assert limited is not None
    assert limited.headers["Retry-After"] == "3"
    assert "X-Ratelimit-Reset" in limited.headers


def test_stall_rest_holds_count_answers_then_stops() -> None:
    """stall_rest delays the next `count` REST answers by `seconds`; a bad value is refused."""
    plan = FaultPlan()
    plan.configure({"fault": "stall_rest", "seconds": 12.5, "count": 2})
    assert [plan.take_rest_stall() for _ in range(3)] == [12.5, 12.5, 0.0]
    with pytest.raises(FaultError):
        plan.configure({"fault": "stall_rest", "seconds": -1})


def test_rest_latency_holds_until_turned_off_and_refuses_a_bad_value() -> None:
    """rest_latency sets every REST request's round trip (seconds) until 0 turns it off."""
    plan = FaultPlan()
    assert plan.rest_latency == 0.0
    plan.configure({"fault": "rest_latency", "ms": 60})
    assert plan.rest_latency == 0.06
    assert plan.rest_latency == 0.06  # not used up
    plan.configure({"fault": "rest_latency", "ms": 0})
    assert plan.rest_latency == 0.0
    with pytest.raises(FaultError):
        plan.configure({"fault": "rest_latency", "ms": -5})
