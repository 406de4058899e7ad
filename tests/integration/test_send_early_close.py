"""`tradingd send` against a daemon that closes the connection before acking every line.

The daemon here is a fake at the edge of the world: a unix socket server that reads signal
lines, acks some, and hangs up, as a daemon that is stopped or dies midway would.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import msgspec
import trio

from actors.messages import Ack
from daemon.exit_status import ExitStatus
from tests.integration.daemons import ROOT, TRADINGD
from tests.integration.process_errors import quiet_environ, the_error_line

if TYPE_CHECKING:
    from pathlib import Path

SIGNALS = b"".join(
    b'{"id":"early-%d","symbol":"AAPL","action":"buy","qty":1}\n' % n for n in range(1, 6)
)


async def listen(path: Path) -> trio.SocketListener:
    sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
    await sock.bind(str(path))
    sock.listen()
    return trio.SocketListener(sock)


async def read_lines(stream: trio.SocketStream, count: int | None) -> list[bytes]:
    """Lines from ``stream`` until ``count`` of them (None: until EOF)."""
    data = b""
    while count is None or data.count(b"\n") < count:
        chunk = await stream.receive_some()
        if not chunk:
            break
        data += chunk
    return data.splitlines()


def ack(line: bytes) -> bytes:
    signal_id = msgspec.json.decode(line)["id"]
    return msgspec.json.encode(Ack(id=signal_id, status="accepted")) + b"\n"


async def test_send_whose_daemon_closes_after_two_acks_exits_69_and_says_so(
    short_dir: Path,
) -> None:
    """Five lines sent, two acked, then EOF: both acks printed, '2 of 5' on stderr, 69."""
    path = short_dir / "fake.sock"

    async def daemon_acking_two(listener: trio.SocketListener) -> None:
        async with listener, await listener.accept() as stream:
            lines = await read_lines(stream, None)
            assert len(lines) == 5
            await stream.send_all(b"".join(ack(line) for line in lines[:2]))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(daemon_acking_two, await listen(path))
        with trio.fail_after(60):
            result = await trio.run_process(
                [*TRADINGD, "send", "--socket", str(path)],
                stdin=SIGNALS,
                capture_stdout=True,
                capture_stderr=True,
                cwd=ROOT,
                env=quiet_environ(),
                check=False,
            )
    assert result.returncode == ExitStatus.UNREACHABLE
    assert [msgspec.json.decode(a)["id"] for a in result.stdout.splitlines()] == [
        "early-1",
        "early-2",
    ]
    error = the_error_line(result.stderr)
    assert error["event"].startswith(
        f"tradingd at {path} closed the connection after acking 2 of 5 lines sent; "
    )
    assert (error["acked"], error["sent"]) == (2, 5)


async def test_send_whose_daemon_hangs_up_before_its_input_ends_stops_at_once(
    short_dir: Path,
) -> None:
    """The daemon closes while stdin is still open: send stops, '2 of 3', 69, no hang."""
    path = short_dir / "fake.sock"
    lines = SIGNALS.splitlines(keepends=True)
    three_read = trio.Event()

    async def daemon_leaving_midway(listener: trio.SocketListener) -> None:
        async with listener, await listener.accept() as stream:
            read = await read_lines(stream, 3)
            three_read.set()
            await stream.send_all(b"".join(ack(line) for line in read[:2]))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(daemon_leaving_midway, await listen(path))
        proc = await trio.lowlevel.open_process(
            [*TRADINGD, "send", "--socket", str(path)],
            cwd=ROOT,
            env=quiet_environ(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        try:
            with trio.fail_after(60):
                await proc.stdin.send_all(b"".join(lines[:3]))
                await three_read.wait()
                # stdin stays open: only the daemon's hang-up can end this send.
                out, err = b"", b""
                while chunk := await proc.stdout.receive_some():
                    out += chunk
                while chunk := await proc.stderr.receive_some():
                    err += chunk
                code = await proc.wait()
        finally:
            proc.kill()
            with trio.fail_after(10):
                await proc.wait()
            await proc.stdin.aclose()
    assert code == ExitStatus.UNREACHABLE
    assert len(out.splitlines()) == 2
    error = the_error_line(err)
    assert "after acking 2 of 3 lines sent (the rest of stdin was not sent); " in error["event"]


async def test_send_whose_daemon_acks_every_line_exits_0(short_dir: Path) -> None:
    """Every line acked, blank lines not counted: the acks on stdout, nothing on stderr, 0."""
    path = short_dir / "fake.sock"

    async def daemon_acking_all(listener: trio.SocketListener) -> None:
        async with listener, await listener.accept() as stream:
            signals = [line for line in await read_lines(stream, None) if line.strip()]
            await stream.send_all(b"".join(ack(line) for line in signals))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(daemon_acking_all, await listen(path))
        with trio.fail_after(60):
            result = await trio.run_process(
                [*TRADINGD, "send", "--socket", str(path)],
                stdin=b"\n  \n" + SIGNALS.rstrip(b"\n"),  # the last line without its newline
                capture_stdout=True,
                capture_stderr=True,
                cwd=ROOT,
                env=quiet_environ(),
                check=False,
            )
    assert (result.returncode, result.stderr) == (ExitStatus.OK, b"")
    assert len(result.stdout.splitlines()) == 5
