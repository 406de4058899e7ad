"""Signals acked "accepted" before their executor started them: each job's end is
journaled, and a restart hands the unfinished ones out again, once, without an ack."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec

from actors.executor.core import SymbolExecutor
from actors.executor.effects import AskRisk, Effect, RecordInJournal
from actors.messages import Approved, Denied, ExecuteSignal, Signal, parse_signal
from actors.position import ConfirmedPosition
from actors.records import FailureStage, SignalFinished, SignalRecorded
from actors.router.core import Duplicate, Reject, SignalRouterCore, ToExecutor, ToRebalance
from actors.router.core_replay import signals_to_replay
from brokers.base import OrderEvent, OrderRequest, OrderStatus
from tests.builders import T0, unread_replies, update


def parsed(**fields: object) -> Signal:
    return parse_signal(msgspec.json.encode(fields))


def execute(sid: str, *, replayed: bool = False, **fields: object) -> ExecuteSignal:
    body = {"id": sid, "symbol": "AAPL", "action": "buy", "qty": 1} | fields
    reply = None if replayed else unread_replies()
    return ExecuteSignal(signal=parsed(**body), reply=reply, received_at=T0, source="test", raw="")


def records(effects: list[Effect]) -> list[object]:
    return [r for e in effects if isinstance(e, RecordInJournal) for r in e.records]


def finished(effects: list[Effect]) -> list[tuple[str, str]]:
    return [(r.signal_id, r.reason) for r in records(effects) if isinstance(r, SignalFinished)]


def acks(effects: list[Effect]) -> list[str]:
    return [
        e.ack[1].status for e in effects if isinstance(e, RecordInJournal) and e.ack is not None
    ]


def ask(effects: list[Effect]) -> OrderRequest:
    (request,) = [e.request for e in effects if isinstance(e, AskRisk)]
    return request


def fill(ex: SymbolExecutor, request: OrderRequest) -> list[Effect]:
    qty = str(request.qty)
    done = update(request, OrderEvent.FILL, OrderStatus.FILLED, qty, "100", (qty, qty, "100"))
    return ex.handle(done, 0, T0)


def approve(ex: SymbolExecutor, request: OrderRequest) -> list[Effect]:
    return ex.handle(Approved(client_order_id=request.client_order_id, reserved=D(0)), 0, T0)


# --- the executor journals the end of every job ------------------------------------------


def test_a_queued_signal_is_finished_only_once_its_own_order_is_final() -> None:
    """s2 waits behind s1: s1's fill finishes s1, and s2 is finished by its own fill."""
    ex = SymbolExecutor("AAPL")
    first = ask(ex.handle(execute("s1"), 0, T0))
    assert finished(approve(ex, first)) == []
    assert finished(ex.handle(execute("s2"), 0, T0)) == []
    effects = fill(ex, first)
    assert finished(effects) == [("s1", "its order is final or resting")]
    second = ask(effects)
    approve(ex, second)
    assert finished(fill(ex, second)) == [("s2", "its order is final or resting")]


def test_a_signal_that_needs_no_order_is_finished_with_its_ack() -> None:
    """A close against a flat position: accepted, no order, finished in the same record set."""
    ex = SymbolExecutor("AAPL")
    effects = ex.handle(execute("c1", action="close", qty=None), 0, T0)
    assert acks(effects) == ["accepted"]
    assert finished(effects) == [("c1", "no order: position is flat")]


def test_a_denied_signal_is_finished() -> None:
    """RiskGuard's denial ends the job: the signal is never worked again."""
    ex = SymbolExecutor("AAPL")
    request = ask(ex.handle(execute("d1"), 0, T0))
    denial = Denied(client_order_id=request.client_order_id, code="max_notional", detail="big")
    assert finished(ex.handle(denial, 0, T0)) == [("d1", "denied: max_notional")]


def test_a_superseded_signal_is_finished() -> None:
    """Replaced while queued: journaled superseded and finished, so no restart replays it."""
    ex = SymbolExecutor("AAPL", supersede_queued=True)
    approve(ex, ask(ex.handle(execute("s1"), 0, T0)))
    ex.handle(execute("s2"), 0, T0)
    assert finished(ex.handle(execute("s3"), 0, T0)) == [("s2", "superseded by s3")]


def test_a_replayed_signal_trades_without_an_ack() -> None:
    """Handed out again at startup (reply None): it asks for its order, journals no ack."""
    ex = SymbolExecutor("AAPL", ConfirmedPosition(D(3), D(100)))
    effects = ex.handle(
        execute("t1", replayed=True, action="target", qty=None, target_qty=0), 0, T0
    )
    request = ask(effects)
    assert (request.side.value, request.qty) == ("sell", D(3))
    effects = approve(ex, request)
    assert acks(effects) == []
    assert not [r for r in records(effects) if isinstance(r, SignalRecorded)]
    assert finished(fill(ex, request)) == [("t1", "its order is final or resting")]


# --- what startup replays ------------------------------------------------------------------


def test_replay_keeps_journal_order_and_reports_unreadable_lines_once() -> None:
    """Readable signals come back in order; a line that no longer parses is quarantined."""
    good = msgspec.json.encode(parsed(id="a", symbol="X", action="target", target_qty=0))
    replay = signals_to_replay(
        [
            ("b", '{"id":"b","symbol":"X","action":"buy","qty":2}'),
            ("a", good.decode()),
            ("c", '{"id":"c"}'),
            ("d", '{"id":"other","symbol":"X","action":"buy","qty":2}'),
        ],
        sized_entries=False,
        wall=T0,
    )
    assert [s.id for s in replay.signals] == ["b", "a"]
    assert [r.signal_id for r in replay.unreadable] == ["c", "d"]
    assert all(r.error.startswith("not replayed") for r in replay.unreadable)
    assert all(r.stage is FailureStage.REPLAY for r in replay.unreadable)


def test_replay_of_an_unsized_entry_needs_the_sizing_policy() -> None:
    """A buy without qty was accepted under a sizing policy: without one it is not guessed."""
    line = [("e", '{"id":"e","symbol":"X","action":"buy"}')]
    assert [s.id for s in signals_to_replay(line, sized_entries=True, wall=T0).signals] == ["e"]
    assert signals_to_replay(line, sized_entries=False, wall=T0).signals == ()


def test_the_router_routes_a_replay_once_and_a_resend_is_a_duplicate() -> None:
    """The replayed id is spent: the same signal fed again afterwards is a duplicate."""
    router = SignalRouterCore(tradable=frozenset({"X"}))
    router.remember({"t1", "r1"})
    target = parsed(id="t1", symbol="x", action="target", target_qty=0)
    rebalance = parsed(id="r1", action="rebalance", targets={"X": 1})
    assert router.route_again(target) == ToExecutor("X")
    assert router.route_again(rebalance) == ToRebalance()
    assert isinstance(router.route(target), Duplicate)
    gone = parsed(id="g1", symbol="Y", action="target", target_qty=0)
    assert isinstance(router.route_again(gone), Reject)
