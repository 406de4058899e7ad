"""The Tradovate front's REST faults as documented (pure)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from brokers.sim.faults import FaultError
from brokers.sim.tradovate.faults import RestFaults
from brokers.sim.tradovate.tokens import TokenBook

T0 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def _faults() -> tuple[RestFaults, TokenBook]:
    tokens = TokenBook()
    return RestFaults(tokens, lambda: T0), tokens


def test_every_documented_tradovate_fault_example_is_accepted() -> None:
    """Each ``"front":"tradovate"`` curl example of the README is a fault RestFaults knows,
    but for the streams' own (tests/unit/brokers/sim/tradovate/test_stream_faults.py)."""
    readme = Path(__file__).resolve().parents[5] / "brokers" / "sim" / "README.md"
    examples = re.findall(r"_sim/faults -d '(\{.*?\})'", readme.read_text(encoding="utf-8"))
    specs = [json.loads(e) for e in examples if '"front":"tradovate"' in e]
    streams_only = {"drop_stream", "stall_stream", "duplicate_events", "reorder_events"}
    streams_only |= {"shutdown"}
    specs = [s for s in specs if s["fault"] not in streams_only]
    for spec in specs:
        assert _faults()[0].configure(spec), spec
    assert {s["fault"] for s in specs} == {
        "p_ticket",
        "http_status",
        "expire_tokens",
        "revoke_tokens",
        "strategy_disabled",
        "reject_next",
        "lose_response",
        "delay_acks",
        "clear",
    }


def test_unknown_faults_are_left_to_the_streams_and_bad_ones_refused() -> None:
    """An unknown name is not this plan's (False); a bad parameter is a FaultError."""
    faults, _ = _faults()
    assert not faults.configure({"fault": "drop_stream"})
    with pytest.raises(FaultError):
        faults.configure({"fault": "http_status", "status": 500})


def test_counted_faults_run_out_and_clear_disarms() -> None:
    """p_ticket, http_status and reject_next answer their count, then nothing; clear ends all."""
    faults, _ = _faults()
    faults.configure({"fault": "p_ticket", "count": 1, "seconds": 5})
    faults.configure({"fault": "http_status", "status": 429, "count": 1})
    faults.configure({"fault": "reject_next"})
    assert faults.take_penalty() == (5, False)
    assert faults.take_penalty() is None
    status = faults.take_status()
    assert status is not None
    assert (status.status, status.body) == (429, None)
    assert faults.take_rejection() == {}
    assert faults.take_rejection() is None
    faults.configure({"fault": "strategy_disabled"})
    faults.configure({"fault": "clear"})
    assert not faults.strategy_disabled


def test_revoke_tokens_ends_the_sessions() -> None:
    """revoke_tokens: no session is left and its tokens are reported revoked."""
    faults, tokens = _faults()
    issued = tokens.open_session(7, T0)
    faults.configure({"fault": "revoke_tokens"})
    assert tokens.user_of(issued.access_token, T0) is None
    assert issued.access_token in tokens.take_revoked()
