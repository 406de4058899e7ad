"""The daemon's unix socket and TCP sources and its control API, over real local sockets
against the embedded paper venue."""

from __future__ import annotations

import os
import socket
import stat
import struct
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

import msgspec
import pytest
import trio

from daemon.control.client import ask, render_reply, send_signals
from daemon.control.server import ControlRequest, serve_listener
from daemon.listeners import (
    ListenerError,
    adopt_fds,
    open_tcp_listener,
    open_unix_listener,
)
from daemon.metrics import Metrics, run_metrics
from daemon.service import actor_backlogs
from daemon.startup.front import Front
from tests.prometheus_text import parse_exposition, value

if TYPE_CHECKING:
    from pathlib import Path

    from daemon.supervisor import Daemon


class BytesSink(trio.abc.SendStream):
    """Collects what is sent to it (the CLI's stdout, here)."""

    def __init__(self) -> None:
        self.data = b""

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        self.data += bytes(data)

    async def wait_send_all_might_not_block(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def send_lines(path: str, lines: list[bytes]) -> list[dict[str, object]]:
    """`tradingd send`'s path: the lines in, the ack lines out, decoded."""
    upload_send, upload_recv = trio.testing.memory_stream_pair()
    out = BytesSink()
    await upload_send.send_all(b"".join(line + b"\n" for line in lines))
    await upload_send.aclose()
    await send_signals(path, upload_recv, out)
    return [msgspec.json.decode(line) for line in out.data.splitlines()]


async def test_unix_socket_acks_every_line_and_shares_dedupe_with_stdin(
    daemon: Daemon, short_dir: Path, nursery: trio.Nursery
) -> None:
    """Signals over the socket are acked in order; a repeat over another source is a duplicate."""
    path = str(short_dir / "tradingd.sock")
    opened = await open_unix_listener(path)
    nursery.start_soon(
        partial(serve_listener, Front.serving(daemon), opened.listener, local=True, name=path)
    )
    with trio.fail_after(10):
        acks = await send_lines(
            path,
            [
                b'{"id":"u1","symbol":"AAPL","action":"buy","qty":3}',
                b"not json",
                b'{"id":"u1","symbol":"AAPL","action":"buy","qty":3}',
            ],
        )
        again = await daemon.intake.submit(
            b'{"id":"u1","symbol":"AAPL","action":"buy","qty":3}', "stdin"
        )
    assert [(a["id"], a["status"]) for a in acks] == [
        ("u1", "accepted"),
        (None, "rejected"),
        ("u1", "duplicate"),
    ]
    assert again.status == "duplicate"


async def test_control_reports_positions_orders_and_audit(
    daemon: Daemon, short_dir: Path, nursery: trio.Nursery
) -> None:
    """After a fill, positions, orders, audit and status answer from the journal and actors."""
    path = str(short_dir / "tradingd.sock")
    opened = await open_unix_listener(path)
    nursery.start_soon(
        partial(serve_listener, Front.serving(daemon), opened.listener, local=True, name=path)
    )
    with trio.fail_after(10):
        await send_lines(path, [b'{"id":"c1","symbol":"AAPL","action":"buy","qty":2}'])
        await daemon.activity.wait_idle()
        await daemon.journal.flush()
        positions = await ask(path, ControlRequest(command="positions"))
        orders = await ask(path, ControlRequest(command="orders", symbol="aapl"))
        audit = await ask(path, ControlRequest(command="audit", symbol="AAPL"))
        status = await ask(path, ControlRequest(command="status"))
    assert [(p["symbol"], Decimal(p["qty"])) for p in positions.data] == [("AAPL", Decimal(2))]
    assert [(o["signal_id"], o["state"]) for o in orders.data] == [("c1", "filled")]
    assert any(call["method"] == "POST" for call in audit.data)
    assert status.data["positions"] == {"AAPL": "2"}
    assert status.data["unresolved_orders"] == 0
    assert "AAPL" in render_reply(positions).splitlines()[1]


async def test_tcp_source_takes_signals_but_refuses_control(
    daemon: Daemon, nursery: trio.Nursery
) -> None:
    """TCP is for signals only: a control question there gets an error reply."""
    opened = await open_tcp_listener("127.0.0.1:0")
    tcp = opened[0]
    nursery.start_soon(
        partial(serve_listener, Front.serving(daemon), tcp.listener, local=False, name="tcp")
    )
    port = tcp.listener.socket.getsockname()[1]
    with trio.fail_after(10):
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(b'{"kind":"control","command":"positions"}\n')
            reply = msgspec.json.decode(await stream.receive_some())
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(b'{"id":"t1","symbol":"AAPL","action":"close"}\n')
            await stream.send_eof()
            ack = msgspec.json.decode(await stream.receive_some())
    assert reply == {
        "kind": "reply",
        "command": None,
        "ok": False,
        "data": None,
        "error": "control only on the local socket",
    }
    assert (ack["id"], ack["status"]) == ("t1", "accepted")


async def test_malformed_control_request_gets_an_error_reply(
    daemon: Daemon, short_dir: Path, nursery: trio.Nursery
) -> None:
    """An unknown command is answered with ok=false and the reason, not a dropped connection."""
    path = str(short_dir / "tradingd.sock")
    opened = await open_unix_listener(path)
    nursery.start_soon(
        partial(serve_listener, Front.serving(daemon), opened.listener, local=True, name=path)
    )
    with trio.fail_after(10):
        async with await trio.open_unix_socket(path) as stream:
            await stream.send_all(b'{"kind":"control","command":"launch"}\n')
            reply = msgspec.json.decode(await stream.receive_some())
    assert reply["ok"] is False
    assert "launch" in reply["error"] or "command" in reply["error"]


async def test_unix_socket_is_group_writable_only(short_dir: Path) -> None:
    """The socket file is mode 0660 whatever the umask."""
    path = str(short_dir / "run" / "tradingd.sock")
    previous = os.umask(0o002)
    try:
        opened = await open_unix_listener(path)
    finally:
        os.umask(previous)
    async with opened.listener:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660


async def test_stale_socket_is_replaced_and_a_live_one_refused(short_dir: Path) -> None:
    """A socket file nobody listens on is reused; one a daemon listens on is an error."""
    path = str(short_dir / "tradingd.sock")
    first = await open_unix_listener(path)
    with pytest.raises(ListenerError, match="another tradingd"):
        await open_unix_listener(path)
    await first.listener.aclose()
    second = await open_unix_listener(path)
    await second.listener.aclose()


async def test_a_plain_file_in_the_way_is_refused(short_dir: Path) -> None:
    """A regular file where the socket goes is never deleted."""
    path = short_dir / "tradingd.sock"
    path.write_text("keep me")
    with pytest.raises(ListenerError, match="not a socket"):
        await open_unix_listener(str(path))
    assert path.read_text() == "keep me"


async def test_adopted_systemd_socket_accepts_connections(short_dir: Path) -> None:
    """A listening socket passed as a descriptor (socket activation) serves clients."""
    path = str(short_dir / "activated.sock")
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.bind(path)
    raw.listen(1)
    [adopted] = adopt_fds([raw.detach()])
    assert adopted.local
    async with adopted.listener, await trio.open_unix_socket(path) as client:
        server = await adopted.listener.accept()
        async with server:
            await client.send_all(b"ping")
            assert await server.receive_some() == b"ping"


async def test_halt_with_flatten_closes_positions_and_resume_lifts_it(
    daemon: Daemon, short_dir: Path, nursery: trio.Nursery
) -> None:
    """`halt --flatten` over the socket: halted, positions closed; `resume`: trading again."""
    path = str(short_dir / "tradingd.sock")
    opened = await open_unix_listener(path)
    nursery.start_soon(
        partial(serve_listener, Front.serving(daemon), opened.listener, local=True, name=path)
    )
    with trio.fail_after(10):
        await send_lines(path, [b'{"id":"h1","symbol":"AAPL","action":"buy","qty":2}'])
        await daemon.activity.wait_idle()
        halted = await ask(path, ControlRequest(command="halt", flatten=True))
        await daemon.activity.wait_idle()
        status = await ask(path, ControlRequest(command="status"))
        resumed = await ask(path, ControlRequest(command="resume"))
    assert halted.data == {"halted": True, "flatten": True}
    assert (status.data["halted"], status.data["positions"]) == (True, {})
    assert daemon.positions() == {}
    assert resumed.data == {"halted": False}
    assert not daemon.risk.halted


async def test_metrics_page_counts_what_the_journal_recorded(
    daemon: Daemon, short_dir: Path, nursery: trio.Nursery
) -> None:
    """`metrics` answers Prometheus text counted from the journal's records."""
    metrics = Metrics()
    await nursery.start(run_metrics, daemon.journal, metrics)
    path = str(short_dir / "tradingd.sock")
    opened = await open_unix_listener(path)
    nursery.start_soon(
        partial(
            serve_listener,
            Front.serving(daemon),
            opened.listener,
            local=True,
            name=path,
            metrics=metrics,
        )
    )
    with trio.fail_after(10):
        await send_lines(path, [b'{"id":"m1","symbol":"AAPL","action":"buy","qty":1}', b"{"])
        await daemon.activity.wait_idle()
        await daemon.journal.flush()
        page = (await ask(path, ControlRequest(command="metrics"))).data.splitlines()
    assert 'tradingd_signals_total{status="accepted"} 1' in page
    assert 'tradingd_signals_total{status="rejected"} 1' in page
    assert 'tradingd_order_transitions_total{state="filled"} 1' in page
    assert "tradingd_order_final_seconds_count 1" in page
    assert "tradingd_stream_healthy 1" in page
    assert "tradingd_unresolved_orders 0" in page
    families = parse_exposition("\n".join(page) + "\n")
    # Both lines were read from the socket and acked; the one order was taken by the venue.
    assert value(families, "tradingd_signal_ack_seconds_count") == 2
    assert value(families, "tradingd_order_ack_seconds_count") == 1
    assert value(families, "tradingd_drifts") == 0


async def test_adopted_tcp_socket_is_not_local() -> None:
    """A TCP socket from systemd is a signal source only, named host:port."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.bind(("127.0.0.1", 0))
    raw.listen(1)
    port = raw.getsockname()[1]
    [adopted] = adopt_fds([raw.detach()])
    async with adopted.listener:
        assert (adopted.local, adopted.name) == (False, f"127.0.0.1:{port}")


async def test_watchdog_sees_every_actor_inbox(daemon: Daemon) -> None:
    """The stall check covers the router, RiskGuard, OrderMonitor, Reconciler and executors."""
    with trio.fail_after(10):
        await daemon.intake.submit(b'{"id":"w1","symbol":"AAPL","action":"buy","qty":1}', "t")
        await daemon.activity.wait_idle()
    assert set(actor_backlogs(daemon)) >= {
        "router",
        "risk",
        "monitor",
        "reconciler",
        "executor AAPL",
    }


async def test_a_client_that_leaves_early_does_not_take_the_listener_down(
    daemon: Daemon, short_dir: Path, nursery: trio.Nursery
) -> None:
    """Lines sent, connection reset before the acks: the socket keeps serving others."""
    path = str(short_dir / "tradingd.sock")
    opened = await open_unix_listener(path)
    nursery.start_soon(
        partial(serve_listener, Front.serving(daemon), opened.listener, local=True, name=path)
    )
    with trio.fail_after(10):
        for i in range(3):
            rude = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            rude.connect(path)
            rude.sendall(
                b"".join(
                    b'{"id":"r%d-%d","action":"close","symbol":"AAPL"}\n' % (i, n)
                    for n in range(50)
                )
            )
            # SO_LINGER 0: close with a reset, so the daemon's ack writes fail.
            rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            rude.close()
        await trio.testing.wait_all_tasks_blocked()
        acks = await send_lines(path, [b'{"id":"polite","symbol":"AAPL","action":"close"}'])
    assert [(a["id"], a["status"]) for a in acks] == [("polite", "accepted")]
