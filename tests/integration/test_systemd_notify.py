"""sd_notify over a real unix datagram socket standing in for systemd's NOTIFY_SOCKET.

A datagram to a local unix socket is queued by the kernel before ``sendto`` returns, so the
tests read whatever is queued at each point without waiting on the socket.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import trio

from actors.retry import BrokerWait
from daemon.notify import Notifier, run_watchdog
from daemon.startup.front import Front

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def notify_socket() -> Iterator[tuple[str, socket.socket]]:
    with (
        tempfile.TemporaryDirectory(prefix="td-") as directory,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
    ):
        path = str(Path(directory) / "notify")
        sock.bind(path)
        sock.setblocking(False)
        yield path, sock


def queued(sock: socket.socket) -> list[bytes]:
    """Every datagram waiting on the socket now."""
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096))
        except BlockingIOError:
            return messages


def test_notify_sends_one_datagram_of_lines(notify_socket: tuple[str, socket.socket]) -> None:
    """READY=1 and STATUS= arrive together as one newline-separated datagram."""
    path, sock = notify_socket
    with Notifier.from_environ({"NOTIFY_SOCKET": path}) as notifier:
        notifier.notify("READY=1", "STATUS=ready")
    assert queued(sock) == [b"READY=1\nSTATUS=ready"]


def test_abstract_namespace_address_is_supported() -> None:
    """An '@' address names an abstract socket, as systemd passes it for user services."""
    name = f"tradingd-test-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.setblocking(False)
        with Notifier(f"@{name}") as notifier:
            notifier.notify("STOPPING=1")
        assert queued(sock) == [b"STOPPING=1"]


def test_without_notify_socket_nothing_is_sent() -> None:
    """Outside systemd the notifier is disabled and notify is a no-op."""
    with Notifier.from_environ({}) as notifier:
        assert not notifier.enabled
        notifier.notify("READY=1")


async def test_watchdog_pings_only_while_every_inbox_makes_progress(
    notify_socket: tuple[str, socket.socket],
    autojump_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
) -> None:
    """Pings every half interval; a stuck inbox withholds them; progress resumes them."""
    path, sock = notify_socket
    backlog = {"router": 0}

    async def journal_commits() -> None:
        await trio.lowlevel.checkpoint()

    with Notifier(path) as notifier:
        nursery.start_soon(run_watchdog, notifier, 10.0, lambda: dict(backlog), journal_commits)
        await trio.sleep(12)  # pings at 0, 5, 10
        assert queued(sock) == [b"WATCHDOG=1"] * 3
        backlog["router"] = 4  # work arrives and is never taken off the inbox
        await trio.sleep(10)  # t=22: seen stuck at 15 and 20, for 5 s so far: still pinging
        assert queued(sock) == [b"WATCHDOG=1"] * 2
        await trio.sleep(10)  # t=32: stuck for 10 s at 25 and 30: no ping
        assert queued(sock) == [b"STATUS=stalled: no progress in router"] * 2
        backlog["router"] = 0
        await trio.sleep(5)
        assert queued(sock) == [b"WATCHDOG=1"]
        nursery.cancel_scope.cancel()


async def test_a_journal_that_does_not_commit_withholds_the_ping(
    notify_socket: tuple[str, socket.socket],
    autojump_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
) -> None:
    """A probe that does not finish within half the interval means no WATCHDOG=1."""
    path, sock = notify_socket

    async def journal_hangs() -> None:
        await trio.sleep_forever()

    with Notifier(path) as notifier:
        nursery.start_soon(run_watchdog, notifier, 10.0, dict, journal_hangs)
        await trio.sleep(31)
        assert (
            queued(sock)
            == [b"STATUS=stalled: the journal did not commit within the watchdog period"] * 3
        )
        nursery.cancel_scope.cancel()


def test_each_wait_for_the_broker_says_why_and_extends_the_start_timeout(
    notify_socket: tuple[str, socket.socket],
) -> None:
    """While the gate waits: STATUS= says what for, EXTEND_TIMEOUT_USEC= covers the wait."""
    path, sock = notify_socket
    with Notifier(path) as notifier:
        front = Front(notifier)
        front.on_wait(BrokerWait("GET /v2/account: rate limited (429)", delay=4.0, attempt=7))
    assert queued(sock) == [
        b"STATUS=waiting for the broker: GET /v2/account: rate limited (429), retry in 4 s, "
        b"attempt 7\nEXTEND_TIMEOUT_USEC=34000000"
    ]
