"""Real processes for the kill -9 tests: ``tradingd sim`` and ``tradingd run`` as a trader
starts them, a way to kill the daemon without warning, and read-only views of the venue's
truth and the journal's file while it runs.

Real processes mean real time: every wait here polls with a short pause and gives up with a
message that says what it was waiting for, after a generous limit.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import asynccontextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import msgspec
import trio

from brokers.sim import SimEndpoints
from daemon.control.client import ControlUnavailable, ask
from daemon.control.server import ControlRequest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

ROOT = Path(__file__).resolve().parents[2]
TRADINGD = [sys.executable, "-m", "daemon.cli"]
# Generous: a loaded machine may take seconds to start a process; a stuck one fails here.
PROCESS_LIMIT = 30.0
POLL = 0.01

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, limit: float = PROCESS_LIMIT
) -> T:
    """Poll ``probe`` until it returns something other than None; fail saying ``what``."""
    with trio.move_on_after(limit):
        while True:
            found = await probe()
            if found is not None:
                return found
            await trio.sleep(POLL)
    raise AssertionError(f"gave up after {limit:.0f}s waiting for {what}")


async def _read_line(stream: trio.abc.ReceiveStream) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = await stream.receive_some()
        if not chunk:
            raise AssertionError(f"process closed its output before a full line: {data!r}")
        data += chunk
    return data


async def _stop(proc: trio.Process, sig: int) -> None:
    if proc.returncode is None:
        proc.send_signal(sig)
    with trio.fail_after(PROCESS_LIMIT):
        await proc.wait()


@asynccontextmanager
async def venue_process(scenario: Path) -> AsyncIterator[SimEndpoints]:
    """``tradingd sim --port 0 --scenario FILE`` in its own process, for the block."""
    proc = await trio.lowlevel.open_process(
        [*TRADINGD, "sim", "--port", "0", "--scenario", str(scenario)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        with trio.fail_after(PROCESS_LIMIT):
            ready = msgspec.json.decode(await _read_line(proc.stdout))
        yield SimEndpoints(
            alpaca_url=ready["alpaca_url"],
            stream_url=ready["stream_url"],
            data_url=ready["data_url"],
        )
    finally:
        with trio.CancelScope(shield=True):
            await _stop(proc, signal.SIGTERM)
            if proc.stdout is not None:
                await proc.stdout.aclose()


def daemon_config(workdir: Path, venue: SimEndpoints, *, risk: str = "", monitor: str = "") -> Path:
    """A config for ``tradingd run`` against ``venue``, its journal and socket in ``workdir``."""
    path = workdir / "tradingd.toml"
    path.write_text(
        f"""
[broker]
kind = "paper"
base_url = "{venue.alpaca_url}"
stream_url = "{venue.stream_url}"
data_url = "{venue.data_url}"

[journal]
path = "journal.sqlite3"

[control]
socket = "tradingd.sock"

[sources]
stdin = false
socket = true

[monitor]
{monitor}

[risk]
{risk}
""",
        encoding="utf-8",
    )
    return path


@attrs.define
class DaemonProcess:
    """One ``tradingd run --config`` process; ``kill`` is kill -9."""

    proc: trio.Process
    socket: str
    log: Path

    async def ready(self) -> None:
        """Wait until the daemon says it is ready on its socket: after its startup gate."""

        async def answers() -> bool | None:
            if self.proc.returncode is not None:
                raise AssertionError(
                    f"daemon exited with {self.proc.returncode} before it was ready:\n"
                    + self.log.read_text(errors="replace")[-4000:]
                )
            try:
                reply = await ask(self.socket, ControlRequest(command="status"))
            except (ControlUnavailable, OSError):
                return None
            # The socket answers from before the gate: ready only once the gate passed.
            return True if reply.ok and reply.data["ready"] else None

        await eventually(answers, "the daemon to be ready")

    async def status(self) -> dict[str, Any]:
        reply = await ask(self.socket, ControlRequest(command="status"))
        assert reply.ok, reply.error
        data: dict[str, Any] = reply.data
        return data

    async def kill(self) -> None:
        """SIGKILL: no settling, no flushing, no goodbye."""
        await _stop(self.proc, signal.SIGKILL)

    async def terminate(self) -> None:
        await _stop(self.proc, signal.SIGTERM)


@asynccontextmanager
async def daemon_process(config: Path) -> AsyncIterator[DaemonProcess]:
    """A daemon started on ``config``; killed at the end of the block if still running."""
    workdir = config.parent
    log = workdir / "daemon.log"
    env = {**os.environ, "TRADINGD_LOG_LEVEL": "INFO"}
    env.pop("NOTIFY_SOCKET", None)
    with log.open("ab") as log_file:
        proc = await trio.lowlevel.open_process(
            [*TRADINGD, "run", "--config", str(config)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            env=env,
        )
    daemon = DaemonProcess(proc, str(workdir / "tradingd.sock"), log)
    try:
        yield daemon
    finally:
        with trio.CancelScope(shield=True):
            await daemon.kill()


async def send_signals(socket_path: str, lines: list[bytes]) -> list[dict[str, Any]]:
    """Send signal lines on one connection; the acks, one per line."""
    acks: list[dict[str, Any]] = []
    with trio.fail_after(PROCESS_LIMIT):
        stream = await trio.open_unix_socket(socket_path)
        async with stream:
            await stream.send_all(b"".join(line + b"\n" for line in lines))
            buffer = b""
            while len(acks) < len(lines):
                chunk = await stream.receive_some()
                if not chunk:
                    raise AssertionError(f"daemon closed the connection after acks {acks}")
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                acks.extend(msgspec.json.decode(line) for line in complete if line)
    return acks


async def send_until_killed(socket_path: str, lines: list[bytes]) -> None:
    """Send signal lines and read acks until the daemon dies: for kills at random moments."""
    with suppress(OSError, trio.BrokenResourceError, AssertionError):
        await send_signals(socket_path, lines)


class JournalFile:
    """The journal's SQLite file, opened read-only beside the daemon that writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # the daemon has not migrated the new file yet
            raise
        finally:
            conn.close()

    def order(self, client_order_id: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT state, venue_order_id, filled_qty FROM orders WHERE client_order_id = ?",
            (client_order_id,),
        )
        if not rows:
            return None
        state, venue_id, filled = rows[0]
        return {"state": state, "venue_order_id": venue_id, "filled_qty": Decimal(filled)}

    def filled_by_order(self) -> dict[str, Decimal]:
        """Per client order id, the quantity of every fill the journal holds."""
        totals: dict[str, Decimal] = {}
        for cid, qty in self.query("SELECT client_order_id, qty FROM fills"):
            totals[cid] = totals.get(cid, Decimal(0)) + Decimal(qty)
        return totals

    def positions(self) -> dict[str, Decimal]:
        rows = self.query("SELECT symbol, qty FROM positions")
        return {s: Decimal(q) for s, q in rows if Decimal(q)}

    def unfinished(self, symbol: str | None = None) -> list[str]:
        """Orders not final in the journal (``symbol``'s only, when given)."""
        rows = self.query(
            "SELECT client_order_id, symbol FROM orders WHERE state NOT IN "
            "('filled', 'canceled', 'expired', 'rejected', 'replaced', 'denied')"
        )
        return [cid for cid, sym in rows if symbol is None or sym == symbol]


def venue_positions(state: Mapping[str, Any]) -> dict[str, Decimal]:
    return {p["symbol"]: Decimal(p["qty"]) for p in state["positions"] if Decimal(p["qty"])}
