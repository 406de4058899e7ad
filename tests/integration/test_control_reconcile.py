"""``tradingd reconcile | corrections | approve`` over the control socket, against a venue
where a trade was placed outside tradingd."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from actors.records import CorrectionRecorded
from daemon.cli import _parser
from daemon.control.client import ask, render_reply
from daemon.control.server import ControlRequest, serve_listener
from daemon.listeners import open_unix_listener
from daemon.startup.front import Front
from tests.scenarios.reconcile_on_sim import reconciling

if TYPE_CHECKING:
    import trio


async def test_reconcile_corrections_and_approve_over_the_socket(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    """The report and the queue print as tables; approve applies once, then refuses."""
    with tempfile.TemporaryDirectory(prefix="td-") as short:
        path = str(Path(short) / "control.sock")
        async with reconciling(tmp_path, "approve") as run:
            opened = await open_unix_listener(path)
            nursery.start_soon(
                partial(
                    serve_listener,
                    Front.serving(run.daemon),
                    opened.listener,
                    local=True,
                    name=path,
                )
            )
            await run.buy_elsewhere("MSFT", 5)
            queued = await run.record(CorrectionRecorded)

            report = await ask(path, ControlRequest(command="reconcile"))
            assert report.ok
            table = render_reply(report)
            assert "mode approve" in table
            header, row = table.splitlines()[1:3]
            assert header.split()[:6] == [
                "SYMBOL",
                "TRADINGD_QTY",
                "VENUE_QTY",
                "DIFFERENCE",
                "NOTIONAL",
                "STATE",
            ]
            assert row.split() == [
                "MSFT",
                "0",
                "5",
                "5",
                "1000",
                "drift",
                "external",
                "1",
                "1",
                "queued",
            ]
            assert "MSFT: orders placed outside tradingd filled" in table

            listing = await ask(path, ControlRequest(command="corrections"))
            [item] = listing.data
            assert (item["id"], item["status"], item["remedy"]) == (
                queued.correction_id,
                "queued",
                "trade_back",
            )
            assert "trade_back" in render_reply(listing)

            status = await ask(path, ControlRequest(command="status"))
            assert status.data["corrections_queued"] == 1

            missing = await ask(path, ControlRequest(command="approve"))
            assert not missing.ok
            assert missing.error == "`id` is required"
            approved = await ask(path, ControlRequest(command="approve", id=queued.correction_id))
            assert approved.ok, approved.error
            assert "applied" in render_reply(approved)
            again = await ask(path, ControlRequest(command="approve", id=queued.correction_id))
            assert not again.ok
            assert "no queued correction" in (again.error or "")
            await run.settle()
            assert await run.venue_positions() == {}
            listing = await ask(path, ControlRequest(command="corrections"))
            assert [c["status"] for c in listing.data] == ["applied"]


def test_the_cli_takes_the_reconciliation_commands() -> None:
    """`approve` needs an integer id; `reconcile` and `corrections` take --json."""
    parser = _parser()
    assert parser.parse_args(["approve", "12"]).id == 12
    assert parser.parse_args(["reconcile", "--json"]).json
    assert parser.parse_args(["corrections", "--limit", "5"]).limit == 5
