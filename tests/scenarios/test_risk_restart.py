"""RiskGuard's state across restarts of the real daemon on one paper venue and one journal:
the kill switch and the daily-loss latch hold until resume (000's daily reset without its
bug), entries wait for a healthy order stream when so configured, sizing by policy, and a
SIGHUP reload of the limits."""

from __future__ import annotations

import logging
import signal as os_signal
import socket
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
import trio

from actors.records import RiskStateRecorded
from actors.risk.limits import RiskLimits, SizingPolicy
from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim
from daemon.config import BrokerConfig, Config, SourcesConfig
from daemon.control.server import metrics_page
from daemon.credentials import load_credentials
from daemon.metrics import Metrics
from daemon.notify import Notifier
from daemon.service import serve_until_stopped
from daemon.sources import AckWriter
from daemon.startup.front import Front
from daemon.supervisor import Daemon, open_daemon
from tests.scenarios.daemon_on_sim import FAST, PRICES, SETTLE_LIMIT, SYMBOLS, signal

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import pytest

# Orders of a few shares, checked against an account read often, so a loss shows at once.
QUICK = RiskLimits(account_refresh_interval=0.1, max_account_age=5.0)


@asynccontextmanager
async def venue() -> AsyncIterator[tuple[SimEndpoints, SimControl]]:
    async with (
        running_sim(SimConfig(prices=dict(PRICES))) as endpoints,
        SimControl(endpoints) as control,
    ):
        yield endpoints, control


def config_for(endpoints: SimEndpoints, risk: RiskLimits, *, stream_down: bool = False) -> Config:
    stream_url = endpoints.stream_url
    monitor = FAST
    if stream_down:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            stream_url = f"ws://127.0.0.1:{probe.getsockname()[1]}/stream"
        monitor = msgspec.structs.replace(FAST, first_connect_grace=0.0)
    broker = BrokerConfig(
        kind="paper",
        base_url=endpoints.alpaca_url,
        stream_url=stream_url,
        data_url=endpoints.data_url,
    )
    sources = SourcesConfig(stdin=False, socket=False)
    return Config(broker=broker, monitor=monitor, risk=risk, sources=sources)


@asynccontextmanager
async def daemon_run(tmp_path: Path, config: Config) -> AsyncIterator[Daemon]:
    """One run of the daemon on the shared journal; the next run is a restart."""
    credentials = load_credentials("paper", {}, None)
    journal = str(tmp_path / "journal.sqlite3")
    async with open_daemon(config, credentials, journal_path=journal) as daemon:
        with trio.fail_after(SETTLE_LIMIT):
            for symbol in SYMBOLS:
                await daemon.prices.wait_for(symbol)
        yield daemon
        with trio.fail_after(SETTLE_LIMIT):
            await daemon.activity.wait_idle()
        daemon.stop()


async def send(daemon: Daemon, line: bytes) -> tuple[str, str]:
    with trio.fail_after(SETTLE_LIMIT):
        ack = await daemon.intake.submit(line, "test")
    return ack.status, ack.reason or ""


async def test_a_halt_survives_a_restart_until_resume(tmp_path: Path) -> None:
    """`tradingd halt`, then a restart: entries are still denied `halted`; resume lifts it
    for good, across the next restart too."""
    async with venue() as (endpoints, _):
        config = config_for(endpoints, QUICK)
        async with daemon_run(tmp_path, config) as daemon:
            with trio.fail_after(SETTLE_LIMIT):
                await daemon.halt()
        async with daemon_run(tmp_path, config) as daemon:
            status, reason = await send(daemon, signal("r1", "AMD", "buy", 1))
            assert status == "rejected"
            assert reason.startswith("risk: halted")
            await daemon.resume()
        async with daemon_run(tmp_path, config) as daemon:
            assert await send(daemon, signal("r2", "AMD", "buy", 1)) == ("accepted", "")


async def test_000_the_daily_loss_latch_survives_a_restart(tmp_path: Path) -> None:
    """A loss past the limit latches REDUCING; a restart on the same trading day (the
    venue's clock), after the loss is made good, neither lifts it nor resets the
    start-of-day equity."""
    limits = msgspec.structs.replace(QUICK, daily_loss_limit=Decimal("0.001"))
    async with venue() as (endpoints, control):
        config = config_for(endpoints, limits)
        async with daemon_run(tmp_path, config) as daemon:
            assert await send(daemon, signal("l1", "MSFT", "buy", 10)) == ("accepted", "")
            with trio.fail_after(SETTLE_LIMIT):
                await daemon.activity.wait_idle()
            with daemon.journal.watch() as records:
                await control.set_prices({"MSFT": "150"})  # -$500 of $100,000
                with trio.fail_after(SETTLE_LIMIT):
                    async for record in records:
                        if isinstance(record, RiskStateRecorded) and record.latched:
                            break
            assert daemon.risk.latched == "reducing"
            start = daemon.risk.daily.start_equity
            # The loss is made good: only the journal still knows the latch was set.
            await control.set_prices({"MSFT": "200"})
        async with daemon_run(tmp_path, config) as daemon:
            assert daemon.risk.latched == "reducing"
            assert daemon.risk.daily.start_equity == start
            # An alert on the halted gauge fires for the latch too, not only the kill switch.
            page = await metrics_page(daemon, Metrics())
            assert "\ntradingd_halted 1\n" in page
            status, reason = await send(daemon, signal("l2", "AMD", "buy", 1))
            assert status == "rejected"
            assert reason.startswith("risk: daily_loss_reducing")
            # Reducing the position is still allowed.
            assert await send(daemon, signal("l3", "MSFT", "sell", 4)) == ("accepted", "")
            await daemon.resume()
        async with daemon_run(tmp_path, config) as daemon:
            assert daemon.risk.latched is None


async def test_entries_wait_for_the_order_stream_exits_do_not(tmp_path: Path) -> None:
    """With refuse_entries_when_stream_down, a daemon whose order stream cannot connect
    denies a buy `stream_unhealthy`, while the close of its position goes out and fills
    (learned by REST)."""
    limits = msgspec.structs.replace(QUICK, refuse_entries_when_stream_down=True)
    async with venue() as (endpoints, control):
        async with daemon_run(tmp_path, config_for(endpoints, limits)) as daemon:
            assert daemon.stream_healthy
            assert await send(daemon, signal("s1", "AAPL", "buy", 3)) == ("accepted", "")
        down = config_for(endpoints, limits, stream_down=True)
        async with daemon_run(tmp_path, down) as daemon:
            assert not daemon.stream_healthy
            status, reason = await send(daemon, signal("s2", "AMD", "buy", 1))
            assert status == "rejected"
            assert reason.startswith("risk: stream_unhealthy")
            assert await send(daemon, signal("s3", "AAPL", "close")) == ("accepted", "")
            with trio.fail_after(SETTLE_LIMIT):
                await daemon.activity.wait_idle()
            assert daemon.positions() == {}
        state = await control.state()
        assert all(Decimal(p["qty"]) == 0 for p in state["positions"])
        assert len(state["submissions"]) == 2


async def test_a_buy_without_qty_is_sized_by_the_policy(tmp_path: Path) -> None:
    """$1000 of AMD at $50 with confidence 0.5 buys 10 shares: the size RiskGuard checked
    is the size the venue got."""
    sizing = SizingPolicy(method="notional", notional=Decimal(1000))
    limits = msgspec.structs.replace(QUICK, sizing=sizing)
    async with venue() as (endpoints, control):
        async with daemon_run(tmp_path, config_for(endpoints, limits)) as daemon:
            line = b'{"id":"z1","symbol":"AMD","action":"buy","confidence":0.5}'
            assert await send(daemon, line) == ("accepted", "")
            with trio.fail_after(SETTLE_LIMIT):
                await daemon.activity.wait_idle()
            assert daemon.positions() == {"AMD": Decimal(10)}
        state = await control.state()
        assert [Decimal(o["qty"]) for o in state["orders"]] == [Decimal(10)]


async def test_without_a_policy_a_buy_without_qty_is_rejected_as_before(tmp_path: Path) -> None:
    """No [risk.sizing]: the ack says the qty is missing, and nothing is sent."""
    async with venue() as (endpoints, control):
        async with daemon_run(tmp_path, config_for(endpoints, QUICK)) as daemon:
            status, reason = await send(daemon, b'{"id":"n1","symbol":"AMD","action":"buy"}')
            assert status == "rejected"
            assert "needs `qty`" in reason
        assert (await control.state())["orders"] == []


class NullOutput(trio.abc.SendStream):
    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        pass

    async def wait_send_all_might_not_block(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def test_sighup_reloads_the_risk_limits_and_a_bad_file_keeps_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGHUP hands RiskGuard the file's new [risk] limits (a sizing policy included); a
    file with a bad limit is refused with a clear error and the running limits stay."""
    path = tmp_path / "tradingd.toml"
    # systemd's notify socket: READY=1 after RELOADING=1 says the reload is done.
    notify = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    await notify.bind(str(tmp_path / "notify"))

    async def reloaded() -> None:
        with trio.fail_after(SETTLE_LIMIT):
            assert b"RELOADING=1" in await notify.recv(4096)
            assert b"READY=1" in await notify.recv(4096)

    with notify, Notifier(str(tmp_path / "notify")) as notifier:
        async with venue() as (endpoints, _):
            config = config_for(endpoints, QUICK)
            async with daemon_run(tmp_path, config) as daemon:
                hups_send, hups = trio.open_memory_channel[int](0)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(
                        serve_until_stopped,
                        Front.serving(daemon),
                        config,
                        str(path),
                        (),
                        AckWriter(NullOutput()),
                        notifier,
                        hups,
                    )
                    with trio.fail_after(SETTLE_LIMIT):
                        assert b"READY=1" in await notify.recv(4096)
                    unsized = b'{"id":"h0","symbol":"AMD","action":"buy"}'
                    status, reason = await send(daemon, unsized)
                    assert status == "rejected"
                    assert "needs `qty`" in reason
                    sizing = "max_order_qty = 2\n[risk.sizing]\nnotional = 100"
                    path.write_text(_toml(endpoints, sizing))
                    await hups_send.send(os_signal.SIGHUP)
                    await reloaded()
                    status, reason = await send(daemon, signal("h1", "AMD", "buy", 3))
                    assert status == "rejected"
                    assert reason.startswith("risk: max_order_qty")
                    # $100 of AMD at $50: the new policy sizes a buy without qty.
                    sized = b'{"id":"h9","symbol":"AMD","action":"buy"}'
                    assert await send(daemon, sized) == ("accepted", "")
                    path.write_text(_toml(endpoints, "max_order_qty = -5"))
                    with caplog.at_level(logging.ERROR, logger="tradingd"):
                        await hups_send.send(os_signal.SIGHUP)
                        await reloaded()
                    assert "reload refused" in caplog.text
                    assert "max_order_qty" in caplog.text
                    assert daemon.risk.limits.max_order_qty == 2
                    assert await send(daemon, signal("h2", "MSFT", "buy", 2)) == ("accepted", "")
                    await hups_send.send(os_signal.SIGTERM)


def _toml(endpoints: SimEndpoints, risk_line: str) -> str:
    return (
        "[broker]\n"
        'kind = "paper"\n'
        f'base_url = "{endpoints.alpaca_url}"\n'
        f'stream_url = "{endpoints.stream_url}"\n'
        f'data_url = "{endpoints.data_url}"\n'
        "[sources]\nstdin = false\nsocket = false\n"
        f"[risk]\naccount_refresh_interval = 0.1\nmax_account_age = 5.0\n{risk_line}\n"
    )
