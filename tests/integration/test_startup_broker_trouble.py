"""Startup under broker trouble: the gate waits out 429s, 5xx, stalls and a venue not yet
listening, the daemon up and not ready meanwhile; refused credentials are raised, not
retried; signals that arrive meanwhile are held, then traded in order or expired.

The daemon runs in-process against the paper venue over real loopback sockets, under the
autojump clock. The clock jumps only after a tenth of a real second with nothing to do,
so the journal's thread (a commit, an fsync on a loaded machine) finishes before a timer
is moved past it.
"""

from __future__ import annotations

import socket
import tempfile
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import pytest
import trio
import trio.testing

from actors.messages import Ack
from actors.records import SignalRecorded
from brokers.base import utc_now
from brokers.errors import AuthenticationFailed
from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim
from daemon.config import BrokerConfig, Config, MonitorConfig, SourcesConfig
from daemon.control.client import ask, send_signals
from daemon.control.server import ControlRequest, serve_listener
from daemon.credentials import Credentials, Secret, load_credentials
from daemon.journal.signals import HELD_UNTIL_READY
from daemon.journal.store import open_journal
from daemon.listeners import open_unix_listener
from daemon.startup.front import Front
from daemon.supervisor import Daemon, open_daemon

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

PRICES = {"AAPL": Decimal(100), "MSFT": Decimal(200)}
# Virtual seconds: far more than any of these scenarios needs once the venue answers.
LIMIT = 900.0


@pytest.fixture
def clock(autojump_clock: trio.testing.MockClock) -> trio.testing.MockClock:
    autojump_clock.autojump_threshold = 0.1
    return autojump_clock


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def config_for(
    endpoints: SimEndpoints, max_hold: float = 60.0, stream_grace: float = 5.0
) -> Config:
    return Config(
        broker=BrokerConfig(
            kind="paper",
            base_url=endpoints.alpaca_url,
            stream_url=endpoints.stream_url,
            data_url=endpoints.data_url,
        ),
        monitor=MonitorConfig(first_connect_grace=stream_grace),
        sources=SourcesConfig(stdin=False, socket=False, max_hold=max_hold),
    )


def later_venue() -> tuple[SimConfig, SimEndpoints]:
    """A paper venue not started yet, and where it will listen once it is."""
    rest, streams = free_port(), free_port()
    config = SimConfig(port=rest, stream_port=streams, prices=dict(PRICES))
    return config, SimEndpoints(
        alpaca_url=f"http://127.0.0.1:{rest}",
        stream_url=f"ws://127.0.0.1:{streams}/stream",
        data_url=f"ws://127.0.0.1:{streams}/v2/iex",
    )


@asynccontextmanager
async def starting(
    config: Config,
    journal: Path,
    front: Front,
    credentials: Credentials | None = None,
) -> AsyncIterator[None]:
    """The daemon starting in the background: ``front`` shows how far it got."""
    stop = trio.Event()

    async def run() -> None:
        async with open_daemon(
            config,
            credentials or load_credentials("paper", {}, None),
            journal_path=str(journal),
            front=front,
        ) as daemon:
            await stop.wait()
            daemon.stop()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        try:
            yield
        finally:
            stop.set()


def line(sid: str, symbol: str = "AAPL", qty: int = 1) -> bytes:
    return msgspec.json.encode({"id": sid, "symbol": symbol, "action": "buy", "qty": qty})


async def trade_once_and_check(daemon: Daemon, control: SimControl, sid: str) -> None:
    """One signal trades exactly one order; nothing at the venue was sent twice."""
    await daemon.prices.wait_for("AAPL")
    ack = await daemon.intake.submit(line(sid), "test")
    assert ack.status == "accepted", ack
    await daemon.activity.wait_idle()
    state = await control.state()
    assert set(state["submissions"].values()) == {1}, state["submissions"]
    assert daemon.positions() == {"AAPL": Decimal(1)}


@pytest.mark.parametrize(
    ("fault", "params", "count", "says"),
    [
        ("http_status", {"status": 429, "retry_after": 4}, 6, "rate limited (429)"),
        ("http_status", {"status": 503}, 5, "venue error (HTTP 503)"),
        ("http_status", {"status": 500}, 3, "venue error (HTTP 500)"),
        ("stall_rest", {"seconds": 40}, 2, "ReadTimeout"),
    ],
)
async def test_the_gate_waits_out_a_venue_in_trouble_then_trades_once(
    tmp_path: Path,
    clock: trio.testing.MockClock,
    fault: str,
    params: dict[str, int],
    count: int,
    says: str,
) -> None:
    """429 with Retry-After, 5xx and stalled answers at startup: waited out, not fatal."""
    front = Front()
    async with (
        running_sim(SimConfig(prices=dict(PRICES))) as endpoints,
        SimControl(endpoints) as control,
    ):
        await control.fault(fault, count=count, **params)
        with trio.fail_after(LIMIT):
            async with starting(config_for(endpoints), tmp_path / "journal.sqlite3", front):
                daemon = await front.wait_ready()
                await trade_once_and_check(daemon, control, "after-trouble")
    assert len(front.recent_waits) == count
    assert all(says in wait.failure for wait in front.recent_waits), front.recent_waits
    if "retry_after" in params:
        # The venue's own hint is honoured: never asked again sooner.
        assert all(wait.delay >= params["retry_after"] for wait in front.recent_waits)


async def test_a_venue_not_yet_listening_is_waited_for(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Refused connections at startup: the daemon waits, then comes up when the venue does."""
    venue, endpoints_later = later_venue()
    front = Front()
    with trio.fail_after(LIMIT):
        async with starting(config_for(endpoints_later), tmp_path / "journal.sqlite3", front):
            await front.wait_open()
            await trio.sleep(120)
            assert len(front.recent_waits) >= 8
            assert front.daemon is None
            assert "ConnectError" in front.recent_waits[-1].failure
            async with (
                running_sim(venue) as endpoints,
                SimControl(endpoints) as control,
            ):
                daemon = await front.wait_ready()
                await trade_once_and_check(daemon, control, "after-refusals")


async def test_ten_minutes_unreachable_leaves_the_daemon_up_not_ready_then_trading(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Ten minutes with nobody listening: not ready, status says why; then it trades."""
    venue, endpoints_later = later_venue()
    front = Front()
    with trio.fail_after(LIMIT + 600):
        async with starting(config_for(endpoints_later), tmp_path / "journal.sqlite3", front):
            await front.wait_open()
            started = trio.current_time()
            await trio.sleep(600)
            assert trio.current_time() - started >= 600
            assert front.daemon is None
            status = front.starting_status()
            assert status["ready"] is False
            assert status["waiting_for"].startswith("waiting for the broker: GET /v2/")
            assert "ConnectError" in status["waiting_for"]
            assert "retry in" in status["waiting_for"]
            assert status["attempt"] >= 10
            async with (
                running_sim(venue) as endpoints,
                SimControl(endpoints) as control,
            ):
                daemon = await front.wait_ready()
                assert front.waiting is None
                await trade_once_and_check(daemon, control, "after-ten-minutes")


async def test_refused_credentials_at_startup_raise_and_are_never_retried(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """A 401 on the gate's reads raises AuthenticationFailed at once: no wait, no retry."""
    front = Front()
    wrong = Credentials(Secret("not-the-key"), Secret("not-the-secret"))
    config = SimConfig(prices=dict(PRICES), key_id="the-key-id", secret_key="the-secret")
    async with running_sim(config) as endpoints, SimControl(endpoints) as control:
        with trio.fail_after(LIMIT), pytest.raises(BaseExceptionGroup) as raised:
            async with starting(config_for(endpoints), tmp_path / "j.sqlite3", front, wrong):
                await trio.sleep_forever()
        refused, _ = raised.value.split(AuthenticationFailed)
        assert refused is not None
        assert not front.recent_waits
        assert front.daemon is None
        assert (await control.state())["submissions"] == {}


async def test_signals_before_the_gate_are_held_then_traded_in_order_or_expired(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Held signals ack accepted 'held until ready'; a resend is a duplicate; after the gate
    the fresh ones trade in order and the one held past max_hold expires untraded."""
    venue, endpoints_later = later_venue()
    front = Front()
    journal = tmp_path / "journal.sqlite3"
    with trio.fail_after(LIMIT):
        # The gate notices the venue at its next try, up to a minute (the backoff's cap) after
        # the venue is back: held signals age meanwhile, so max_hold leaves room for that.
        async with starting(config_for(endpoints_later, max_hold=200), journal, front):
            intake = await front.wait_open()
            stale = await intake.submit(line("held-stale", "MSFT"), "test")
            await trio.sleep(250)
            first = await intake.submit(line("held-1", qty=2), "test")
            second = await intake.submit(line("held-2", qty=3), "test")
            again = await intake.submit(line("held-1", qty=2), "test")
            bad = await intake.submit(b'{"id":"held-bad","action":"buy"}', "test")
            assert front.starting_status()["held_signals"] == 3
            await trio.sleep(10)  # held-stale is 260 s old now, the others 10 s
            assert front.daemon is None
            async with (
                running_sim(venue) as endpoints,
                SimControl(endpoints) as control,
            ):
                daemon = await front.wait_ready()
                await daemon.activity.wait_idle()
                state = await control.state()
                resent = await daemon.intake.submit(line("held-2", qty=3), "test")
    held = Ack(id=None, status="accepted", reason="held until ready")
    for ack, sid in ((stale, "held-stale"), (first, "held-1"), (second, "held-2")):
        assert ack == msgspec.structs.replace(held, id=sid)
    assert again.status == "duplicate"
    assert bad.status == "rejected"
    assert resent.status == "duplicate"
    orders = [(o["client_order_id"], o["qty"]) for o in state["orders"]]
    assert [qty for _, qty in orders] == ["2", "3"], orders
    assert not any("held-stale" in cid for cid, _ in orders)
    assert {p["symbol"]: p["qty"] for p in state["positions"]} == {"AAPL": "5"}
    rows = await _signal_rows(journal)
    assert ("held-stale", "expired") in rows
    assert ("held-1", "expired") not in rows


async def test_signals_held_when_a_crash_came_expire_past_max_hold_at_the_next_start(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Held, then the daemon died: the next start trades the young one, expires the old."""
    journal = tmp_path / "journal.sqlite3"
    now = utc_now()
    async with open_journal(str(journal)) as book:
        await book.commit(
            *(
                SignalRecorded(
                    at=now - timedelta(seconds=age),
                    signal_id=sid,
                    source="socket",
                    raw=line(sid, qty=qty).decode(),
                    status="accepted",
                    reason=HELD_UNTIL_READY,
                )
                for sid, age, qty in (("crash-old", 120, 4), ("crash-young", 5, 6))
            )
        )
    front = Front()
    async with (
        running_sim(SimConfig(prices=dict(PRICES))) as endpoints,
        SimControl(endpoints) as control,
    ):
        with trio.fail_after(LIMIT):
            async with starting(config_for(endpoints, max_hold=60), journal, front):
                daemon = await front.wait_ready()
                await daemon.activity.wait_idle()
                state = await control.state()
                resent = await daemon.intake.submit(line("crash-old", qty=4), "test")
    assert [o["qty"] for o in state["orders"]] == ["6"]
    assert resent.status == "duplicate"
    assert ("crash-old", "expired") in await _signal_rows(journal)


async def _signal_rows(journal: Path) -> list[tuple[str, str]]:
    """The journal's (signal id, status) rows, read after the daemon closed it."""
    import sqlite3

    def read() -> list[tuple[str, str]]:
        with sqlite3.connect(journal) as conn:
            return list(conn.execute("SELECT signal_id, status FROM signals ORDER BY seq"))

    return await trio.to_thread.run_sync(read)


async def test_the_control_socket_answers_before_the_gate_and_holds_its_signals(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """`tradingd status` over the socket says what the gate waits for; other questions say
    not ready; a signal sent there is held; once the venue is back status says ready."""
    venue, endpoints_later = later_venue()
    front = Front()
    with tempfile.TemporaryDirectory(prefix="td-") as short:
        path = str(Path(short) / "tradingd.sock")
        opened = await open_unix_listener(path)
        with trio.fail_after(LIMIT):
            async with (
                trio.open_nursery() as nursery,
                starting(config_for(endpoints_later), tmp_path / "journal.sqlite3", front),
            ):
                nursery.start_soon(
                    partial(serve_listener, front, opened.listener, local=True, name=path)
                )
                await front.wait_open()
                await trio.sleep(30)
                status = await ask(path, ControlRequest(command="status"))
                positions = await ask(path, ControlRequest(command="positions"))
                upload, download = trio.testing.memory_stream_pair()
                await upload.send_all(line("over-the-socket") + b"\n")
                await upload.aclose()
                sink = trio.testing.MemorySendStream()
                await send_signals(path, download, sink)
                async with running_sim(venue):
                    await front.wait_ready()
                    ready = await ask(path, ControlRequest(command="status"))
                nursery.cancel_scope.cancel()
    assert status.ok
    assert status.data["ready"] is False
    assert status.data["waiting_for"].startswith("waiting for the broker: GET /v2/")
    assert not positions.ok
    assert positions.error is not None
    assert positions.error.startswith("not ready: waiting for the broker")
    ack = msgspec.json.decode(sink.get_data_nowait())
    assert (ack["id"], ack["status"], ack["reason"]) == (
        "over-the-socket",
        "accepted",
        "held until ready",
    )
    assert ready.ok
    assert ready.data["ready"] is True
