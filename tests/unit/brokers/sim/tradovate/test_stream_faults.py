"""The Tradovate front's fault plan: what it accepts, refuses and keeps."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from brokers.sim.core.clock import VenueClock
from brokers.sim.faults import FaultError
from brokers.sim.tradovate.front import TradovateFront

START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
README = Path(__file__).resolve().parents[5] / "brokers" / "sim" / "README.md"


def make_front() -> TradovateFront:
    return TradovateFront.create(7, Decimal(50000), VenueClock.starting_at(START))


async def test_every_documented_tradovate_fault_example_is_accepted() -> None:
    """Each Tradovate curl example in the venue's README is a fault the front accepts."""
    examples = re.findall(r"_sim/faults -d '(\{.*?\})'", README.read_text(encoding="utf-8"))
    specs = [json.loads(e) for e in examples]
    tradovate = [s for s in specs if s.get("front") == "tradovate"]
    front = make_front()
    for spec in tradovate:
        front.apply_fault(spec)
    assert {"drop_stream", "stall_stream", "shutdown", "lose_response"} <= {
        s["fault"] for s in tradovate
    }


async def test_unknown_fault_and_bad_parameters_raise_fault_error() -> None:
    """A fault no part of the front knows, or a bad parameter, raises FaultError."""
    front = make_front()
    for spec in (
        {"fault": "nope"},
        {"fault": "lose_response", "count": -1},
        {"fault": "delay_acks", "ms": "soon"},
        {"fault": "shutdown", "reasonCode": "Lunch"},
    ):
        with pytest.raises(FaultError):
            front.apply_fault(spec)


async def test_lost_responses_count_down_and_clear_resets() -> None:
    """lose_response loses exactly count answers; clear disarms delay and duplicates."""
    front = make_front()
    faults = front.stream_faults
    front.apply_fault({"fault": "lose_response", "count": 2})
    assert [faults.take_lost_response() for _ in range(3)] == [True, True, False]
    front.apply_fault({"fault": "delay_acks", "ms": 250})
    assert faults.ack_delay == 0.25
    front.apply_fault({"fault": "clear"})
    assert faults.ack_delay == 0
