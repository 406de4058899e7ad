"""A rebalance replayed at startup: no ack, priced before it plans, finished once sent."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec
import trio

from actors.messages import Ack, ProducedSignal, RouterInput, parse_signal
from actors.records import SignalFinished
from actors.router.rebalance import RebalanceBook, run_rebalance
from actors.router.task import Intake
from tests.journal_fake import MemoryJournal


async def accept_every_leg(
    inbox: trio.MemoryReceiveChannel[RouterInput], legs: list[dict[str, object]]
) -> None:
    async for msg in inbox:
        assert isinstance(msg, ProducedSignal)  # a leg is handed over as the signal it is
        legs.append(msgspec.to_builtins(msg.signal))
        await msg.reply.send(Ack(id=str(legs[-1]["id"]), status="accepted"))


async def settled_at_once(symbols: frozenset[str]) -> None:
    await trio.lowlevel.checkpoint()


async def test_a_replayed_rebalance_waits_for_prices_before_it_plans(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The feed has not spoken at startup: the replay waits for MSFT's price rather than
    skipping the leg, plans from the positions held then, and journals its end."""
    prices: dict[str, D] = {}
    priced = trio.Event()

    async def wait_priced(symbols: frozenset[str]) -> None:
        assert symbols == {"MSFT"}
        await priced.wait()

    async def price_arrives() -> None:
        await trio.sleep(5)
        prices["MSFT"] = D(100)
        priced.set()

    journal = MemoryJournal()
    send, receive = trio.open_memory_channel[RouterInput](0)
    legs: list[dict[str, object]] = []
    book = RebalanceBook(
        equity=lambda: D(10_000),
        price=prices.get,
        positions=lambda: {"AAPL": D(7)},
        increments=dict,
        wait_settled=settled_at_once,
        intake=Intake(send),
        journal=journal,
        wait_priced=wait_priced,
    )
    signal = parse_signal(b'{"id":"r","action":"rebalance","targets":{"MSFT":0.5}}')
    async with trio.open_nursery() as nursery:
        nursery.start_soon(accept_every_leg, receive, legs)
        nursery.start_soon(price_arrives)
        await run_rebalance(book, signal, None)
        assert trio.current_time() == 5
        nursery.cancel_scope.cancel()
    assert [(leg["id"], leg["target_qty"]) for leg in legs] == [("r:AAPL", "0"), ("r:MSFT", "50")]
    assert [(r.signal_id, r.reason) for r in journal.records if isinstance(r, SignalFinished)] == [
        ("r", "its legs are sent")
    ]
    assert all(isinstance(r, SignalFinished) for r in journal.records)  # no ack journaled
