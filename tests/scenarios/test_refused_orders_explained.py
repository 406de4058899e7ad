"""Every denied or failed order is explained: the `run --once` summary, `tradingd orders`
(its table and its --json data) and the journal's rows name its signal, side, quantity,
and the code and detail of its refusal — a RiskGuard denial (which never had an intent)
as much as a venue's rejection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from actors.ids import client_order_id_for
from daemon.control.client import render_reply
from daemon.control.server import ControlRequest, answer
from daemon.summary import build_summary
from tests.scenarios.daemon_on_sim import daemon_on_sim, signal

if TYPE_CHECKING:
    from pathlib import Path

EXPLAINED = ("signal_id", "leg", "side", "qty", "state", "code", "detail")

# The default [risk] max_order_qty is 10000.
DENIED = ("too-big", "buy", "20000", "denied", "max_order_qty", "qty 20000 exceeds 10000")
REJECTED_DETAIL = "venue rejected (40310000): account is restricted"
REJECTED = ("refused", "sell", "3", "rejected", "venue_rejected", REJECTED_DETAIL)


def explained(row: dict[str, Any]) -> tuple[Any, ...]:
    signal_id, leg, side, qty, state, code, detail = (row[f] for f in EXPLAINED)
    assert leg == "entry"
    return (signal_id, side, qty, state, code, detail)


async def test_a_denied_and_a_rejected_order_are_named_with_their_reasons(
    tmp_path: Path,
) -> None:
    """A max_order_qty denial and a venue's 403 each show signal id, side, qty, code and
    detail in the summary, in `orders` (table and --json) and in the journal's rows."""
    async with daemon_on_sim(tmp_path) as scenario:
        (denied,) = await scenario.send(signal("too-big", "AAPL", "buy", 20000))
        assert denied.status == "rejected"
        await scenario.venue.fault("reject_next", code=40310000, message="account is restricted")
        (accepted,) = await scenario.send(signal("refused", "MSFT", "sell", 3))
        assert accepted.status == "accepted"
        await scenario.settle()

        summary = await build_summary(scenario.daemon)
        assert [explained(row) for row in summary.orders] == [DENIED, REJECTED]

        rows = await scenario.daemon.journal.orders()
        journaled = [explained(msgspec.to_builtins(row)) for row in rows]
        assert journaled == [DENIED, REJECTED]
        assert [r.client_order_id for r in rows] == [
            client_order_id_for("too-big", "entry"),
            client_order_id_for("refused", "entry"),
        ]

        reply = await answer(scenario.daemon, ControlRequest(command="orders"))
        as_json = msgspec.json.decode(msgspec.json.encode(reply.data))
        assert [explained(row) for row in as_json] == [DENIED, REJECTED]
        table = render_reply(reply).splitlines()
        header = table[0].split()
        assert {"SIGNAL_ID", "SIDE", "QTY", "CODE", "DETAIL"} <= set(header)
        for line, (signal_id, side, qty, state, code, detail) in zip(
            table[1:], (DENIED, REJECTED), strict=True
        ):
            for cell in (signal_id, side, qty, state, code, detail):
                assert cell in line, (cell, line)
