"""A journal holding a poison signal — accepted before a crash, never worked, its row written
by another version or damaged — must not stop every start: the restart quarantines it, works
the signal queued beside it, and comes up; the operator lists and clears it over the socket."""

from __future__ import annotations

import logging
import sqlite3
from functools import partial
from typing import TYPE_CHECKING

import trio

from actors.ids import client_order_id_for
from brokers.base import utc_now
from brokers.sim import SimControl, running_sim
from daemon.control.client import ask, render_reply
from daemon.control.server import ControlRequest, metrics_page, serve_listener
from daemon.listeners import open_unix_listener
from daemon.metrics import Metrics
from daemon.startup.front import Front
from tests.integration.daemons import daemon_on

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

GOOD_LINE = '{"id":"good-1","symbol":"AAPL","action":"buy","qty":2}'
EPOCH_LINE = '{"id":"epoch-1","symbol":"AAPL","action":"buy","qty":1}'


def write_poisoned_queue(path: Path) -> None:
    """Three signals acked "accepted: queued" and never started: one whose time another
    version wrote as Unix seconds, one whose line is a BLOB of invalid bytes, one sound."""
    at = utc_now().isoformat(timespec="microseconds")
    queued = "queued behind an earlier signal"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executemany(
            "INSERT INTO signals (at, signal_id, source, raw, status, reason) "
            "VALUES (?, ?, 'router', ?, 'accepted', ?)",
            [
                (1764770000, "epoch-1", EPOCH_LINE, queued),
                (at, "blob-1", b"\xff\xfe\x00 damaged", queued),
                (at, "good-1", GOOD_LINE, queued),
            ],
        )
    finally:
        conn.close()


def failed_ids(rows: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(row["signal_id"], row["stage"]) for row in rows]


async def test_a_poison_signal_in_the_journal_is_quarantined_and_the_daemon_comes_up(
    tmp_path: Path, short_dir: Path, nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    """The restart marks both poison rows failed (with an ERROR saying what to do), trades
    the sound one once; resends stay duplicates, before and after a clear, across restarts."""
    path = tmp_path / "journal.sqlite3"
    sock = str(short_dir / "tradingd.sock")
    good_cid = client_order_id_for("good-1", "entry")
    async with running_sim() as venue, SimControl(venue) as control:
        async with daemon_on(venue, path):
            pass  # the journal as a daemon leaves it
        write_poisoned_queue(path)
        with caplog.at_level(logging.ERROR):
            async with daemon_on(venue, path) as daemon:
                opened = await open_unix_listener(sock)
                serving = partial(
                    serve_listener, Front.serving(daemon), opened.listener, local=True, name=sock
                )
                nursery.start_soon(serving)
                with trio.fail_after(10):
                    await daemon.activity.wait_idle()
                    listed = await ask(sock, ControlRequest(command="failed_signals"))
                    status = await ask(sock, ControlRequest(command="status"))
                    page = await metrics_page(daemon, Metrics())
                    resend = await daemon.intake.submit(EPOCH_LINE.encode(), "stdin")
                    cleared = await ask(
                        sock, ControlRequest(command="clear_signal", signal_id="epoch-1")
                    )
                    again = await ask(
                        sock, ControlRequest(command="clear_signal", signal_id="epoch-1")
                    )
                    unknown = await ask(
                        sock, ControlRequest(command="clear_signal", signal_id="good-1")
                    )
                    after = await ask(sock, ControlRequest(command="failed_signals"))
                    resend_after = await daemon.intake.submit(EPOCH_LINE.encode(), "stdin")
                submissions = (await control.state())["submissions"]
                nursery.cancel_scope.cancel()
        assert failed_ids(listed.data) == [("epoch-1", "replay"), ("blob-1", "replay")]
        assert "epoch-1" in render_reply(listed)
        assert "blob-1" in render_reply(listed)
        assert status.data["signals_failed"] == 2
        assert "tradingd_signals_quarantined 2" in page.splitlines()
        assert submissions == {good_cid: 1}
        assert (resend.status, resend_after.status) == ("duplicate", "duplicate")
        assert cleared.ok
        assert cleared.data["signal_id"] == "epoch-1"
        assert not again.ok
        assert "cleared already" in (again.error or "")
        assert not unknown.ok
        assert "no failed signal" in (unknown.error or "")
        assert failed_ids(after.data) == [("blob-1", "replay")]
        alerts = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        for signal_id in ("epoch-1", "blob-1"):
            (alert,) = [a for a in alerts if signal_id in a]
            assert "quarantined" in alert
            assert "tradingd signals --failed" in alert

        caplog.clear()
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
                resend = await daemon.intake.submit(EPOCH_LINE.encode(), "stdin")
                still_failed = await daemon.journal.failed_signals()
            assert resend.status == "duplicate"
            assert [f.signal_id for f in still_failed] == ["blob-1"]
            assert (await control.state())["submissions"] == {good_cid: 1}
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
