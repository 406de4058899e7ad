"""The steps of the order path the crash loop kills the daemon at, and its random moments.

Each step drives one symbol's order to a known point, found by watching the journal's file
and the venue's truth, with venue faults holding the point open; kills the daemon there;
sometimes lets the market move while it is down; restarts it; and waits for the books to
balance (``World.balanced``), once more when everything is final.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import trio

from actors.ids import client_order_id_for
from tests.scenarios.crash_processes import eventually
from tests.scenarios.crash_world import (
    FILL_SIZE,
    SHARED_SYMBOLS,
    START_PRICE,
    STEP_SYMBOLS,
    World,
    signal_line,
    venue_positions,
)

if TYPE_CHECKING:
    import random

# --- the steps of the order path ----------------------------------------------------------

Step = Callable[[World, str, str, float], Awaitable[None]]


async def _pause(jitter: float) -> None:
    # A kill a little after the step's point widens what the loop covers.
    if jitter:
        await trio.sleep(jitter)


async def killed_after_the_intent(world: World, symbol: str, sid: str, jitter: float) -> None:
    """The intent is durable (acked) but every REST call fails: the venue never got it."""
    cid = client_order_id_for(sid, "entry")
    await world.venue.fault("http_status", status=503, count=100000)
    (ack,) = await world.send(signal_line(sid, symbol, "buy", qty=2))
    assert ack["status"] == "accepted", ack
    await world.until_journal(cid, "as an intent", lambda row: True)
    await _pause(jitter)
    await world.kill()
    assert await world.submissions(cid) == 0
    await world.restart()
    await world.balanced()


async def killed_after_the_send(world: World, symbol: str, sid: str, jitter: float) -> None:
    """The venue has the order, its answer and its stream events are held back."""
    cid = client_order_id_for(sid, "entry")
    await world.venue.fault("stall_stream", seconds=60)
    await world.venue.fault("delay_acks", ms=60000, symbol=symbol)
    world.send_in_background(signal_line(sid, symbol, "buy", qty=3))

    async def arrived() -> bool | None:
        return True if await world.submissions(cid) else None

    await eventually(arrived, f"the venue to receive {cid}")
    await world.until_journal(cid, "as an intent", lambda row: True)
    await _pause(jitter)
    await world.kill()
    await world.restart()
    await world.balanced()


async def killed_after_the_ack(world: World, symbol: str, sid: str, jitter: float) -> None:
    """A resting limit order the venue acknowledged; it fills while the daemon is down."""
    cid = client_order_id_for(sid, "entry")
    line = signal_line(sid, symbol, "buy", qty=4, order_type="limit", limit_price="99.00")
    (ack,) = await world.send(line)
    assert ack["status"] == "accepted", ack
    await world.until_journal(
        cid, "acknowledged", lambda row: row["state"] == "accepted" and row["venue_order_id"]
    )
    await _pause(jitter)
    await world.kill()
    await world.venue.set_prices({symbol: "98.50"})
    await world.restart()
    await world.balanced(final=symbol)


async def killed_between_partial_fills(world: World, symbol: str, sid: str, jitter: float) -> None:
    """A market order filled in parts: one part journaled, the next made while down."""
    cid = client_order_id_for(sid, "entry")
    (ack,) = await world.send(signal_line(sid, symbol, "buy", qty=2 * FILL_SIZE + 2))
    assert ack["status"] == "accepted", ack
    await world.until_journal(cid, "partly filled", lambda row: row["filled_qty"] == FILL_SIZE)
    await _pause(jitter)
    await world.kill()
    await world.venue.set_prices({symbol: "100.01"})
    await world.restart()
    await world.balanced()
    await world.venue.set_prices({symbol: "100.02"})
    await world.until_journal(cid, "filled", lambda row: row["state"] == "filled")
    await world.balanced(final=symbol)


async def killed_during_a_bracket(world: World, symbol: str, sid: str, jitter: float) -> None:
    """The entry filled, its exits work at the venue; the take-profit fills after the
    restart and the stop is canceled."""
    cid = client_order_id_for(sid, "entry")
    line = signal_line(sid, symbol, "buy", qty=3, take_profit="105.00", stop_loss="95.00")
    (ack,) = await world.send(line)
    assert ack["status"] == "accepted", ack
    await world.until_journal(cid, "filled", lambda row: row["state"] == "filled")

    def exits_working(state: dict[str, Any]) -> bool:
        legs = [o for o in state["orders"] if o["symbol"] == symbol and o["client_order_id"] != cid]
        return len(legs) == 2 and all(o["status"] in ("new", "held") for o in legs)

    await world.until_venue(f"{symbol}'s exits working", exits_working)
    await _pause(jitter)
    await world.kill()
    await world.restart()
    await world.balanced()
    await world.venue.set_prices({symbol: "105.50"})
    await world.until_venue(f"{symbol} flat", lambda s: symbol not in venue_positions(s))
    await world.balanced(final=symbol)


async def killed_with_a_signal_queued(world: World, symbol: str, sid: str, jitter: float) -> None:
    """A buy in flight (its answer and stream events held back) and a target to flat acked
    "accepted" while queued behind it: the restart works the target, once."""
    cid = client_order_id_for(sid, "entry")
    await world.venue.fault("stall_stream", seconds=60)
    await world.venue.fault("delay_acks", ms=60000, symbol=symbol)
    world.send_in_background(signal_line(sid, symbol, "buy", qty=3))

    async def arrived() -> bool | None:
        return True if await world.submissions(cid) else None

    await eventually(arrived, f"the venue to receive {cid}")
    (ack,) = await world.send(signal_line(f"{sid}-flat", symbol, "target", target_qty=0))
    assert (ack["status"], ack["reason"]) == ("accepted", "queued behind an earlier signal"), ack
    await _pause(jitter)
    await world.kill()
    await world.restart()
    await world.until_venue(f"{symbol} flat", lambda s: symbol not in venue_positions(s))
    await world.balanced(final=symbol)
    target = client_order_id_for(f"{sid}-flat", "target")
    assert await world.submissions(target) == 1


STEPS: dict[str, Step] = {
    "after the intent": killed_after_the_intent,
    "after the send": killed_after_the_send,
    "after the ack": killed_after_the_ack,
    "between partial fills": killed_between_partial_fills,
    "during a bracket": killed_during_a_bracket,
    "with a signal queued": killed_with_a_signal_queued,
}


async def killed_at_a_random_moment(world: World, rng: random.Random, tag: str) -> None:
    """A burst of signals on shared symbols, a kill after a random pause, a restart."""
    lines = []
    for n in range(rng.randint(1, 3)):
        symbol = rng.choice(SHARED_SYMBOLS)
        sid = f"{tag}-{n}"
        match rng.choice(["buy", "sell", "close", "target"]):
            case "buy" | "sell" as side:
                lines.append(signal_line(sid, symbol, side, qty=rng.randint(1, FILL_SIZE)))
            case "close":
                lines.append(signal_line(sid, symbol, "close"))
            case _:
                target = rng.randint(-FILL_SIZE, FILL_SIZE)
                lines.append(signal_line(sid, symbol, "target", target_qty=target))
    world.send_in_background(*lines)
    await trio.sleep(rng.uniform(0, 0.05))
    await world.kill()
    if rng.random() < 0.5:
        # The market moves while the daemon is down: resting parts fill unseen.
        await world.venue.set_prices({s: _nudged(rng) for s in SHARED_SYMBOLS})
    await world.restart()
    await world.balanced()
    # Whatever still rests fills now, and the books balance again with it.
    await world.venue.set_prices({s: _nudged(rng) for s in SHARED_SYMBOLS})
    await world.balanced()


def _nudged(rng: random.Random) -> str:
    return str(START_PRICE + Decimal(rng.randint(-50, 50)) / 100)


__all__ = ["STEPS", "STEP_SYMBOLS", "killed_at_a_random_moment"]
