"""The installed command line, as a trader runs it: real subprocesses, real loopback sockets."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import httpx
import msgspec
import trio

from tests.integration.daemons import ROOT, TRADINGD, read_line


async def test_run_once_prints_one_ack_per_line_then_the_summary() -> None:
    """`run --once < examples/signals.ndjson`: an ack per line, a summary, exit 0."""
    signals = (ROOT / "examples" / "signals.ndjson").read_bytes()
    with trio.fail_after(60):
        result = await trio.run_process(
            [*TRADINGD, "run", "--once"],
            stdin=signals,
            capture_stdout=True,
            capture_stderr=True,
            cwd=ROOT,
            check=False,
        )
    assert result.returncode == 0, result.stderr.decode()
    lines = [msgspec.json.decode(line) for line in result.stdout.splitlines()]
    acks, summary = lines[:-1], lines[-1]
    assert len(acks) == len(signals.splitlines())
    assert all(a["kind"] == "ack" for a in acks)
    assert [a["status"] for a in acks].count("rejected") == 3
    assert [a["status"] for a in acks].count("duplicate") == 1
    assert summary["kind"] == "summary"
    assert summary["unresolved"] == 0
    # demo: AAPL 10 then target 4; MSFT 5; TSLA short 3 then closed.
    positions = {s: Decimal(q) for s, q in summary["positions"].items()}
    assert positions == {"AAPL": Decimal(4), "MSFT": Decimal(5)}
    assert {o["state"] for o in summary["orders"]} == {"filled"}


async def test_sim_prints_its_ready_line_and_serves_alpaca() -> None:
    """`tradingd sim --port 0` prints the ready line and answers the Alpaca account call."""
    proc = await trio.lowlevel.open_process(
        [*TRADINGD, "sim", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        with trio.fail_after(30):
            ready = msgspec.json.decode(await read_line(proc.stdout))
        assert ready["kind"] == "ready"
        assert ready["stream_url"].startswith("ws://127.0.0.1:")
        async with httpx.AsyncClient(base_url=ready["alpaca_url"]) as client:
            response = await client.get(
                "/v2/account", headers={"APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"}
            )
        assert response.status_code == 200
        assert Decimal(response.json()["cash"]) > 0
        proc.terminate()
        with trio.fail_after(10):
            assert await proc.wait() == 0
    finally:
        proc.kill()
        with trio.fail_after(10):
            await proc.wait()
        if proc.stdout is not None:
            await proc.stdout.aclose()


async def test_run_once_whose_reader_leaves_exits_cleanly() -> None:
    """A closed stdout (`| head -1`) closes the stdin source: exit 1, no traceback."""
    signals = (ROOT / "examples" / "signals.ndjson").read_bytes()
    proc = await trio.lowlevel.open_process(
        [*TRADINGD, "run", "--once"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    with trio.fail_after(60):
        await proc.stdin.send_all(signals.splitlines(keepends=True)[0])
        first = await read_line(proc.stdout)
        await proc.stdout.aclose()  # the reader leaves after one line
        await proc.stdin.send_all(signals)
        await proc.stdin.aclose()
        errors = b""
        while chunk := await proc.stderr.receive_some():
            errors += chunk
        code = await proc.wait()
    await proc.stderr.aclose()
    assert msgspec.json.decode(first)["status"] == "accepted"
    assert code == 1
    assert b"Traceback" not in errors
    assert b"its output is gone" in errors
