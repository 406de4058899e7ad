"""Incident 004 and the idempotency rules, replayed through the daemon and the paper venue.

Already covered elsewhere, and not repeated here: the same signal id again after its order
filled (``tests/integration/test_walking_skeleton.py``) and after a restart
(``test_a_signal_id_is_a_duplicate_after_a_restart`` there); a lost answer to a buy, with the
stream up and down (``test_monitor_lost_response.py``). The ones below are the cases those
leave open: a short closed (004 #1), an empty-bodied venue refusal (004 #2), the same signal
twice before either is acked, a lost answer to a close — the order whose resend would flip
the position — one symbol's hanging answers next to another symbol's orders, and orders
across zero (a target, a sell, and a second leg the venue refuses), which the venue would
refuse as one order and so go out as two legs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
import pytest
import trio

from actors.ids import client_order_id_for
from actors.messages import Ack
from actors.records import (
    FillRecorded,
    IntentRecorded,
    JournalRecord,
    OrderStateRecorded,
    VenueCallRecorded,
)
from brokers.base import Side
from brokers.sim import SimAsset
from daemon.summary import build_summary
from tests.scenarios.daemon_on_sim import SETTLE_LIMIT, Scenario, daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path


def intents(scenario: Scenario) -> list[IntentRecorded]:
    return [r for r in scenario.seen if isinstance(r, IntentRecorded)]


async def test_004_1_a_short_is_closed_by_a_buy_of_its_size_and_never_flips(
    tmp_path: Path,
) -> None:
    """Short 3: the close BUYs exactly 3, the position ends flat, and a second close sends
    nothing (the incident's close went out as a SELL and took -3 to -4)."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("short", "AAPL", "sell", 3), signal("long", "MSFT", "buy", 2))
        await scenario.settle()
        assert scenario.daemon.positions() == {"AAPL": -3, "MSFT": 2}
        (ack,) = await scenario.send(signal("close", "AAPL", "close"))
        assert (ack.status, ack.reason) == ("accepted", None)
        await scenario.assert_definitive(orders=3)
        close = [i.request for i in intents(scenario) if i.leg == "close"]
        assert [(r.symbol, r.side, r.qty) for r in close] == [("AAPL", Side.BUY, 3)]
        # Only the closed symbol moved; the close's fills are a buy of 3 and nothing else.
        assert scenario.daemon.positions() == {"MSFT": 2}
        close_fills = [
            (f.side, f.qty)
            for f in scenario.seen
            if isinstance(f, FillRecorded) and f.client_order_id == close[0].client_order_id
        ]
        assert close_fills == [(Side.BUY, 3)]
        (again,) = await scenario.send(signal("close-again", "AAPL", "close"))
        assert (again.status, again.reason) == ("accepted", "no order: position is flat")
        await scenario.assert_definitive(orders=3)


async def test_004_2_a_venue_refusal_with_an_empty_body_is_not_a_trade(tmp_path: Path) -> None:
    """The venue answers 403 ``{}``: the order is recorded rejected with no fill, the position
    stays flat at both ends, the summary says rejected, and a later close sends nothing."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("reject_next")  # 403 with an empty body, as in 004
        (ack,) = await scenario.send(signal("short", "AAPL", "sell", 3))
        # Accepted: tradingd owns the signal; the venue's refusal is the order's outcome.
        assert ack.status == "accepted"
        await scenario.settle()
        cid = client_order_id_for("short", "entry")
        assert scenario.journaled_states()[cid] == ["sending", "rejected"]
        assert scenario.fills() == {}
        assert await scenario.daemon.journal.fills() == []
        assert scenario.daemon.positions() == {}
        state = await scenario.venue.state()
        # The refusal came before the matching core: nothing reached it, nothing is held.
        assert (state["submissions"], state["orders"], state["positions"]) == ({}, [], [])
        assert scenario.daemon.unresolved() == 0
        summary = await build_summary(scenario.daemon)
        assert summary.positions == {}
        assert summary.unresolved == 0
        ((row),) = summary.orders
        assert (row["client_order_id"], row["state"]) == (cid, "rejected")
        assert row["filled_qty"] == "0"
        assert row["reason"].startswith("venue rejected")
        # The incident's journal believed it was short 3; here a close finds nothing to do.
        (close,) = await scenario.send(signal("close", "AAPL", "close"))
        assert (close.status, close.reason) == ("accepted", "no order: position is flat")
        # The refusal gave its buying-power reservation back: the next order goes through.
        # (Another size: RiskGuard's duplicate window would refuse the same order again.)
        (retry,) = await scenario.send(signal("short-2", "AAPL", "sell", 2))
        assert (retry.status, retry.reason) == ("accepted", None)
        await scenario.assert_definitive(orders=1)
        assert scenario.daemon.positions() == {"AAPL": -2}


async def test_the_same_signal_twice_before_either_ack_is_one_order(tmp_path: Path) -> None:
    """A sender that retries at once (two sources, neither acked yet) gets one accepted and
    one duplicate; the venue receives the order once."""
    async with daemon_on_sim(tmp_path) as scenario:
        line = signal("twice", "AMD", "buy", 4)
        send, receive = trio.open_memory_channel[Ack](2)
        with trio.fail_after(SETTLE_LIMIT):
            await scenario.daemon.intake.send(line, "stdin", send)
            await scenario.daemon.intake.send(line, "socket", send)
            acks = sorted([(await receive.receive()).status for _ in range(2)])
        assert acks == ["accepted", "duplicate"]
        state = await scenario.assert_definitive(orders=1)
        assert state["submissions"] == {client_order_id_for("twice", "entry"): 1}
        assert scenario.daemon.positions() == {"AMD": 4}


@pytest.mark.parametrize("stream_down", [False, True], ids=["stream-up", "stream-down"])
async def test_a_lost_answer_to_a_close_is_looked_up_and_never_resent(
    tmp_path: Path, stream_down: bool
) -> None:
    """The close of a short reaches the venue but its answer is lost: the order is looked up
    by client_order_id, never sent again (a second BUY 3 would flip the short to long 3)."""
    async with daemon_on_sim(tmp_path, stream_down=stream_down) as scenario:
        await scenario.send(signal("short", "MSFT", "sell", 3))
        await scenario.settle()
        await scenario.venue.fault("lose_response")
        await scenario.send(signal("close", "MSFT", "close"))
        state = await scenario.assert_definitive(orders=2)
        cid = client_order_id_for("close", "close")
        assert state["submissions"][cid] == 1
        if stream_down:
            # Only the lookup can tell what became of it. (With the stream up, the fill
            # often streams in before the lost answer is noticed.)
            assert "unknown" in scenario.journaled_states()[cid]
        assert scenario.order(cid).filled_qty == Decimal(3)
        assert scenario.daemon.positions() == {}
        assert state["positions"] == []


async def test_a_target_across_zero_reaches_its_target(tmp_path: Path) -> None:
    """Long 5, target -3 (a TradingView reversal alert maps to a target): ends short 3."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("long", "AAPL", "buy", 5))
        await scenario.settle()
        (ack,) = await scenario.send(signal("reverse", "AAPL", "target", target_qty=-3))
        assert ack.status == "accepted"
        await scenario.settle()
        assert scenario.daemon.unresolved() == 0
        state = await scenario.venue.state()
        assert [(p["symbol"], Decimal(p["qty"])) for p in state["positions"]] == [("AAPL", -3)]
        assert scenario.daemon.positions() == {"AAPL": -3}


def legs(scenario: Scenario, signal_id: str) -> list[tuple[str, Side, Decimal]]:
    """The signal's orders, in the order their intents were journaled."""
    return [
        (i.leg, i.request.side, i.request.qty)
        for i in intents(scenario)
        if i.signal_id == signal_id
    ]


async def test_a_sell_across_zero_closes_the_long_then_opens_the_short(tmp_path: Path) -> None:
    """Long 5, sell 8: SELL 5, then SELL 3 once flat; short 3 at the venue and here, every
    order sent once, the round trip's fills add up."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("long", "AAPL", "buy", 5))
        await scenario.settle()
        (ack,) = await scenario.send(signal("s8", "AAPL", "sell", 8))
        assert (ack.status, ack.reason) == ("accepted", None)
        state = await scenario.assert_definitive(orders=3)
        assert legs(scenario, "s8") == [("flat", Side.SELL, 5), ("open", Side.SELL, 3)]
        assert [(p["symbol"], Decimal(p["qty"])) for p in state["positions"]] == [("AAPL", -3)]
        assert scenario.daemon.positions() == {"AAPL": -3}
        first, second = (client_order_id_for("s8", leg) for leg in ("flat", "open"))
        assert scenario.fills() == {client_order_id_for("long", "entry"): 5, first: 5, second: 3}
        # The open leg was sent only after the first was final.
        states = [
            (r.client_order_id, r.state)
            for r in scenario.seen
            if isinstance(r, OrderStateRecorded) and r.client_order_id in (first, second)
        ]
        assert states.index((first, "filled")) < states.index((second, "sending"))


async def test_a_sell_across_a_protected_long_moves_the_exits_to_the_short(
    tmp_path: Path,
) -> None:
    """Long 5 with its bracket exits, sell 8 with exits of its own: the long's exits end
    first, SELL 5 goes out without exits, then SELL 3 with the new ones; the exits left
    working are BUYs guarding the short 3, never SELLs that would add to it."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("long", "AAPL", "buy", 5, take_profit=120, stop_loss=80))
        await scenario.settle()
        (ack,) = await scenario.send(signal("s8", "AAPL", "sell", 8, take_profit=80, stop_loss=120))
        assert ack.status == "accepted"
        await scenario.settle()
        assert legs(scenario, "s8") == [("flat", Side.SELL, 5), ("open", Side.SELL, 3)]
        state = await scenario.venue.state()
        assert [(p["symbol"], Decimal(p["qty"])) for p in state["positions"]] == [("AAPL", -3)]
        assert scenario.daemon.positions() == {"AAPL": -3}
        working = [
            (o["side"], Decimal(o["qty"]))
            for o in state["orders"]
            if o["status"] in ("new", "held", "accepted")
        ]
        assert working
        assert set(working) == {("buy", Decimal(3))}


async def test_a_refused_open_leg_leaves_the_position_flat_and_says_so(tmp_path: Path) -> None:
    """Long 5 of a stock the venue will not lend, target -3: the SELL 5 fills, the venue
    refuses the short SELL 3; the position ends flat (never long 5, never short), the open
    leg is journaled rejected with the venue's reason, nothing is sent again."""
    hard_to_borrow = SimAsset("AMD", shortable=False)
    async with daemon_on_sim(tmp_path, assets=[hard_to_borrow]) as scenario:
        await scenario.send(signal("long", "AMD", "buy", 5))
        await scenario.settle()
        (ack,) = await scenario.send(signal("reverse", "AMD", "target", target_qty=-3))
        assert ack.status == "accepted"
        state = await scenario.assert_definitive(orders=3)  # each sent once, none again
        assert legs(scenario, "reverse") == [("flat", Side.SELL, 5), ("open", Side.SELL, 3)]
        opened = client_order_id_for("reverse", "open")
        assert scenario.journaled_states()[opened] == ["sending", "rejected"]
        assert "cannot be sold short" in (scenario.order(opened).reason or "")
        assert state["positions"] == []
        assert scenario.daemon.positions() == {}


async def test_a_symbol_whose_answers_hang_holds_up_no_other(tmp_path: Path) -> None:
    """AAPL's order answers are held back a minute: MSFT's signals still trade, each one
    answered by the venue, filled and journaled, while AAPL's answer is outstanding."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("delay_acks", ms=60_000, symbol="AAPL")
        (slow,) = await scenario.send(signal("slow", "AAPL", "buy", 1))
        assert slow.status == "accepted"  # durable and acked; only the venue's answer hangs
        await scenario.until(reached("filled"))  # the fill streams in before the answer
        msft = [client_order_id_for(sid, "entry") for sid in ("m1", "m2")]
        acks = await scenario.send(signal("m1", "MSFT", "buy", 2), signal("m2", "MSFT", "sell", 1))
        assert [a.status for a in acks] == ["accepted", "accepted"]

        def msft_answered_and_filled(seen: list[JournalRecord]) -> bool:
            return posted(seen, answered=True) >= set(msft) and reached("filled", count=3)(seen)

        await scenario.until(msft_answered_and_filled)
        # AAPL's request is still out: neither answered nor failed (a request that had waited
        # for a pooled connection behind it would have timed out first).
        assert posted(scenario.seen) == set(msft)
        assert scenario.daemon.positions() == {"AAPL": 1, "MSFT": 1}
        assert scenario.daemon.unresolved() == 0


def posted(seen: list[JournalRecord], *, answered: bool = False) -> set[str]:
    """The client_order_ids whose POST has ended (with the venue's answer, if ``answered``)."""
    return {
        msgspec.json.decode(r.call.request_body)["client_order_id"]
        for r in seen
        if isinstance(r, VenueCallRecorded)
        and r.call.method == "POST"
        and r.call.request_body is not None
        and (r.call.status is not None or not answered)
    }
