from __future__ import annotations

from decimal import Decimal as D

import msgspec
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from actors.messages import Approved, Denied, RiskDecision, RiskRequest
from actors.prices import PriceBook
from actors.records import RiskStateRecorded
from actors.risk.core import RiskGuardCore
from actors.risk.core_pacing import Parking, SendWindow
from actors.risk.limits import RiskLimits
from brokers.base import Account, Side
from tests.builders import T0, request

PACED = RiskLimits(
    market_slippage=D(0),
    duplicate_window=0,
    max_orders_per_second=2,
    max_orders_per_minute=5,
    breaker_backlog=3,
    breaker_ratio=None,
    max_gross_exposure=None,
    max_net_exposure=None,
    max_position_notional=None,
    trading_day="session",
    max_account_age=10_000,
    max_price_age=10_000,
)


def guard(limits: RiskLimits = PACED) -> RiskGuardCore:
    prices = PriceBook()
    for symbol in ("AAPL", "MSFT", "TSLA"):
        prices.update(symbol, D(10), now=0.0)
    core = RiskGuardCore(limits, prices)
    core.set_account(Account(cash=D(10**7), buying_power=D(10**7), equity=D(10**7)), 0.0, T0)
    return core


def ask(
    cid: str,
    side: Side = Side.BUY,
    position: str = "0",
    *,
    symbol: str = "AAPL",
    qty: str = "1",
    derived: bool = False,
    waiting: int = 0,
    offered: int = 1,
) -> RiskRequest:
    reply, _ = trio.open_memory_channel[RiskDecision](1)
    return RiskRequest(
        request=request(cid, symbol=symbol, side=side, qty=qty),
        position_qty=D(position),
        reply=reply,
        position_derived=derived,
        waiting=waiting,
        offered=offered,
    )


def decide_and_post(core: RiskGuardCore, asked: RiskRequest, now: float) -> RiskDecision:
    """The decision, and (approved) its POST done at once, as an executor's without a wait."""
    decision = core.decide_asked(asked, now)
    if isinstance(decision, Approved):
        core.order_posted(decision.client_order_id, now)
    return decision


def drain(core: RiskGuardCore, now: float) -> list[tuple[str, RiskDecision]]:
    out = []
    while (due := core.pop_due(now)) is not None:
        out.append((due.request.client_order_id, decide_and_post(core, due, now)))
    return out


def test_the_window_makes_room_when_its_oldest_send_leaves() -> None:
    """Two a second, five a minute: the third waits for the first to be a second old."""
    window = SendWindow()
    window.count(0.0)
    window.count(0.2)
    assert window.next_room(PACED, 0.5) == 1.0
    window.count(1.0)
    window.count(1.5)
    window.count(2.5)
    assert window.next_room(PACED, 2.6) == 60.0  # five in the minute: the first must go


@given(st.lists(st.booleans(), max_size=40))
def test_parking_hands_back_protective_first_then_in_arrival_order(kinds: list[bool]) -> None:
    """Whatever the mix, exits come out first, each kind in the order it arrived."""
    parking: Parking[int] = Parking()
    for i, protective in enumerate(kinds):
        parking.park(i, protective=protective)
    popped = []
    while (item := parking.pop()) is not None:
        popped.append(item)
    assert popped == [i for i, p in enumerate(kinds) if p] + [
        i for i, p in enumerate(kinds) if not p
    ]


def test_an_order_over_the_rate_waits_instead_of_being_denied() -> None:
    """The third order in a second is parked, then approved once the window slides."""
    core = guard()
    asks = [ask(f"o{i}", qty=str(i + 1)) for i in range(3)]
    assert core.admit(asks[0], 0.0)
    assert isinstance(decide_and_post(core, asks[0], 0.0), Approved)
    assert core.admit(asks[1], 0.1)
    assert isinstance(decide_and_post(core, asks[1], 0.1), Approved)
    assert not core.admit(asks[2], 0.2)
    assert core.parked == 1
    assert core.next_due(0.2) == 1.0
    assert drain(core, 0.9) == []
    [(cid, decision)] = drain(core, 1.0)
    assert cid == "o2"
    assert isinstance(decision, Approved)


def test_an_approved_order_holds_its_place_until_its_post_is_done() -> None:
    """Held back by the request budget, an approval counts as sent at every instant until
    its POST is done, and from then on: orders released together stay under the cap."""
    core = guard()
    for i in range(2):
        assert core.admit(ask(f"a{i}", qty=str(i + 1)), 0.0)
        assert isinstance(core.decide_asked(ask(f"a{i}", qty=str(i + 1)), 0.0), Approved)
    assert not core.admit(ask("b", qty="7"), 0.5)
    assert core.pop_due(5.0) is None  # a second and more later: neither is posted yet
    core.order_posted("a0", 5.0)
    core.order_posted("a1", 5.0)
    assert core.pop_due(5.5) is None  # posted at 5.0: their second runs to 6.0
    due = core.pop_due(6.0)
    assert due is not None
    assert due.request.client_order_id == "b"


def test_an_exit_takes_the_first_place_in_the_window() -> None:
    """A sell of a held position goes ahead of the entries parked before it."""
    core = guard()
    for i in range(2):
        decide_and_post(core, ask(f"e{i}", qty=str(i + 1)), 0.0)
    for i in range(2, 4):
        assert not core.admit(ask(f"e{i}", symbol="MSFT", qty=str(i + 1)), 0.1)
    assert not core.admit(ask("x", Side.SELL, "5", symbol="TSLA", qty="5"), 0.2)
    assert [cid for cid, _ in drain(core, 1.0)] == ["x", "e2"]


def test_risk_reducing_orders_count_in_the_window_too() -> None:
    """A close approved and an exit sent unasked both take their slot: the entry waits."""
    core = guard()
    assert isinstance(decide_and_post(core, ask("close", Side.SELL, "3", qty="3"), 0.0), Approved)
    core.count_protective_send(0.1)
    assert not core.admit(ask("entry"), 0.2)


@given(st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=60))
def test_no_second_ever_sees_more_approvals_than_the_cap(arrivals: list[float]) -> None:
    """Whenever requests arrive, the approvals in any one second stay within the cap."""
    limits = msgspec.structs.replace(PACED, max_orders_per_minute=None, breaker_backlog=10**6)
    core = guard(limits)
    approved: list[float] = []
    events = sorted(arrivals)
    now = 0.0
    for i, at in enumerate(events):
        # The loop wakes for each parked request's turn before the next arrival.
        while (due_at := core.next_due(now)) is not None and due_at <= at:
            now = due_at
            approved += [now for _, d in drain(core, now) if isinstance(d, Approved)]
        now = at
        one = ask(f"o{i}", qty=str(i + 1))
        if core.admit(one, now) and isinstance(decide_and_post(core, one, now), Approved):
            approved.append(now)
    while (due_at := core.next_due(now)) is not None:
        now = due_at
        approved += [now for _, d in drain(core, now) if isinstance(d, Approved)]
    assert len(approved) == len(events)  # nothing denied, nothing lost
    for t in approved:
        assert sum(1 for u in approved if t <= u < t + 1.0) <= 2


def test_a_backlog_past_the_bound_trips_and_latches_the_breaker() -> None:
    """Parked entries denied runaway_breaker; a sell out of a position still passes."""
    core = guard()
    for i in range(2):
        decide_and_post(core, ask(f"e{i}", qty=str(i + 1)), 0.0)
    assert not core.admit(ask("p1", qty="3"), 0.1)
    assert not core.admit(ask("x", Side.SELL, "5", symbol="TSLA", qty="5"), 0.1)
    assert core.runaway is None
    # Its executor holds three more signals behind it: five waiting, more than three.
    assert not core.admit(ask("p2", symbol="MSFT", qty="4", waiting=3), 0.2)
    assert core.runaway is not None
    assert core.runaway.startswith("backlog")
    blocked = core.take_blocked_entries()
    assert [b.request.client_order_id for b in blocked] == ["p1", "p2"]
    for b in blocked:
        decision = decide_and_post(core, b, 0.2)
        assert isinstance(decision, Denied)
        assert decision.code == "runaway_breaker"
    assert [cid for cid, d in drain(core, 1.0) if isinstance(d, Approved)] == ["x"]
    # New entries are decided (denied) at once rather than waiting for a slot.
    late = ask("late", qty="9")
    assert core.admit(late, 1.1)
    decision = decide_and_post(core, late, 1.1)
    assert isinstance(decision, Denied)
    assert decision.code == "runaway_breaker"


def test_the_breaker_latch_is_journaled_restored_and_cleared_by_resume() -> None:
    """The record carries the cause; a restart restores it; resume clears both."""
    core = guard(msgspec.structs.replace(PACED, breaker_backlog=1))
    for i in range(2):
        decide_and_post(core, ask(f"e{i}", qty=str(i + 1)), 0.0)
    core.admit(ask("p1", qty="3", waiting=5), 0.1)
    record = core.state_record(T0)
    assert record is not None
    assert record.runaway == "backlog"
    restarted = guard()
    restarted.restore(msgspec.json.decode(msgspec.json.encode(record), type=RiskStateRecorded))
    assert restarted.runaway is not None
    entry = ask("again", qty="7")
    assert restarted.admit(entry, 0.0)
    denied = decide_and_post(restarted, entry, 0.0)
    assert isinstance(denied, Denied)
    assert denied.code == "runaway_breaker"
    restarted.resume()
    assert restarted.runaway is None
    cleared = restarted.state_record(T0)
    assert cleared is not None
    assert cleared.runaway is None
    assert isinstance(decide_and_post(restarted, ask("after", qty="8"), 0.0), Approved)


def test_a_sustained_offered_rate_trips_the_breaker() -> None:
    """More than ratio x cap signals a second for breaker_seconds trips it; a burst does not."""
    limits = msgspec.structs.replace(
        PACED, breaker_backlog=10**6, breaker_ratio=5.0, breaker_seconds=3.0
    )
    core = guard(limits)
    core.admit(ask("burst", offered=100), 0.0)  # one basket: 100 in a second, then quiet
    core.admit(ask("quiet", qty="2"), 1.5)
    assert core.runaway is None
    for i in range(40):
        core.admit(ask(f"loop{i}", qty=str(i + 3), offered=15), 2.0 + i * 0.1)
    assert core.runaway is not None
    assert core.runaway.startswith("offered_rate")


def test_a_position_derived_leg_is_never_a_duplicate() -> None:
    """The same side and qty again within the window: refused as a plain buy, not as a
    target's or a flip's leg."""
    limits = msgspec.structs.replace(
        PACED, duplicate_window=2.0, max_orders_per_second=None, max_orders_per_minute=None
    )
    core = guard(limits)
    assert isinstance(decide_and_post(core, ask("s1-open", qty="5", derived=True), 0.0), Approved)
    again = decide_and_post(core, ask("s2-open", qty="5", derived=True), 0.5)
    assert isinstance(again, Approved)
    assert isinstance(decide_and_post(core, ask("b1", qty="5"), 0.6), Approved)
    dup = decide_and_post(core, ask("b2", qty="5"), 0.7)
    assert isinstance(dup, Denied)
    assert dup.code == "duplicate_order"
    # A derived leg neither checks the window nor fills it.
    assert isinstance(decide_and_post(core, ask("s3-open", qty="5", derived=True), 0.8), Approved)


@pytest.mark.parametrize(
    "bad",
    [
        {"breaker_ratio": 0.5},
        {"breaker_backlog": 0},
        {"breaker_seconds": 0},
        {"max_orders_per_second": 0},
    ],
)
def test_the_breaker_fields_are_validated(bad: dict[str, float]) -> None:
    """A ratio below 1, a bound below 1, no breaker time or a zero cap are config errors."""
    with pytest.raises(msgspec.ValidationError, match=next(iter(bad))):
        msgspec.convert(bad, RiskLimits)


def test_a_halt_denies_the_parked_entries_at_once_and_keeps_the_exits_waiting() -> None:
    """Halted, the entries waiting for a slot are handed back to be denied now; the sell
    out of a position keeps its place and goes when the window has room."""
    core = guard()
    for i in range(2):
        decide_and_post(core, ask(f"e{i}", qty=str(i + 1)), 0.0)
    assert not core.admit(ask("p1", qty="3"), 0.1)
    assert not core.admit(ask("x", Side.SELL, "5", symbol="TSLA", qty="5"), 0.1)
    assert core.take_blocked_entries() == []  # nothing blocks entries yet
    core.halt()
    [blocked] = core.take_blocked_entries()
    denied = decide_and_post(core, blocked, 0.2)
    assert isinstance(denied, Denied)
    assert denied.code == "halted"
    assert core.parked == 1
    assert [(cid, type(d)) for cid, d in drain(core, 1.0)] == [("x", Approved)]
