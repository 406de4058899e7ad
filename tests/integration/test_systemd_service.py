"""The daemon as systemd runs it: a subprocess with NOTIFY_SOCKET, signals and questions
through the CLI over its unix socket, then SIGTERM with orders still in flight."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import msgspec
import trio

from brokers.sim import SimEndpoints
from brokers.sim.control import SimControl
from daemon.exit_status import ExitStatus
from daemon.journal.store import open_journal
from daemon.webhook.auth import WebhookToken

ROOT = Path(__file__).resolve().parents[2]
TRADINGD = [sys.executable, "-m", "daemon.cli"]
SIGNALS = (
    b'{"id":"drain-1","symbol":"AAPL","action":"buy","qty":3}\n'
    b'{"id":"drain-2","symbol":"MSFT","action":"buy","qty":2}\n'
    b'{"id":"drain-1","symbol":"AAPL","action":"buy","qty":3}\n'
)

TOKEN = WebhookToken(name="tv", token="t" * 24, passphrase="open sesame")
ALERT = {"passphrase": "open sesame", "id": "drain-3", "ticker": "NVDA", "position_size": 1}


async def cli(*args: str, stdin: bytes = b"") -> bytes:
    result = await trio.run_process(
        [*TRADINGD, *args], stdin=stdin, capture_stdout=True, capture_stderr=True, cwd=ROOT
    )
    return result.stdout


async def test_sigterm_drains_in_flight_orders_and_exits_0(short_dir: Path, tmp_path: Path) -> None:
    """READY after the gate; socket and webhook intake; SIGTERM: STOPPING, all final, exit 0."""
    socket_path = short_dir / "tradingd.sock"
    journal_path = tmp_path / "journal.sqlite3"
    config = tmp_path / "tradingd.toml"
    config.write_text(
        f'[journal]\npath = "{journal_path}"\n'
        f'[control]\nsocket = "{socket_path}"\n'
        "[sources]\nstdin = false\n"
        '[webhook]\nbind = "127.0.0.1:0"\n'
    )
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "webhook-tokens").write_bytes(msgspec.json.encode([TOKEN]))
    notify = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
    await notify.bind(str(short_dir / "notify"))
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(short_dir / "notify"),
        "CREDENTIALS_DIRECTORY": str(credentials),
    }
    with notify, (tmp_path / "stderr").open("wb") as stderr:
        proc = await trio.lowlevel.open_process(
            [*TRADINGD, "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            with trio.fail_after(30):
                # STATUS= lines say what startup is doing until READY=1 comes.
                ready = await notify.recv(4096)
                while not ready.startswith(b"READY=1"):
                    ready = await notify.recv(4096)
            assert ready.startswith(b"READY=1\nSTATUS=ready: signals from ")
            status = msgspec.json.decode(
                await cli("status", "--json", "--socket", str(socket_path))
            )
            venue = SimEndpoints(alpaca_url=status["paper_venue"], stream_url="", data_url="")
            async with SimControl(venue) as control:
                # Orders are still waiting for the venue's answer when SIGTERM arrives.
                await control.fault("delay_acks", ms=1500)
            acks = await cli("send", "--socket", str(socket_path), stdin=SIGNALS)
            webhook = re.search(rb"http://127\.0\.0\.1:\d+", ready)
            assert webhook is not None
            async with httpx.AsyncClient(base_url=webhook[0].decode()) as http:
                response = await http.post(f"/webhook/{TOKEN.token}", json=ALERT)
            assert response.json()["status"] == "accepted"
            proc.send_signal(signal.SIGTERM)
            assert [
                (a["id"], a["status"]) for a in map(msgspec.json.decode, acks.splitlines())
            ] == [("drain-1", "accepted"), ("drain-2", "accepted"), ("drain-1", "duplicate")]
            with trio.fail_after(30):
                assert await notify.recv(4096) == (
                    b"STOPPING=1\nSTATUS=stopping: letting orders settle"
                )
                assert await proc.wait() == 0, (tmp_path / "stderr").read_text()
        finally:
            proc.kill()
            with trio.fail_after(10):
                await proc.wait()
    async with open_journal(str(journal_path)) as journal:
        orders = await journal.orders()
        positions = await journal.positions()
    assert sorted((o.signal_id, o.state) for o in orders) == [
        ("drain-1", "filled"),
        ("drain-2", "filled"),
        ("drain-3", "filled"),
    ]
    assert {s: p.qty for s, p in positions.items()} == {"AAPL": 3, "MSFT": 2, "NVDA": 1}


async def test_cli_reports_daemon_not_running(short_dir: Path) -> None:
    """A query with nobody listening says so on stderr and exits 69."""
    result = await trio.run_process(
        [*TRADINGD, "positions", "--socket", str(short_dir / "none.sock")],
        capture_stdout=True,
        capture_stderr=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == ExitStatus.UNREACHABLE
    assert b"is it running?" in result.stderr


async def test_sighup_reloads_webhook_tokens_without_a_restart(
    short_dir: Path, tmp_path: Path
) -> None:
    """SIGHUP: RELOADING=1, the new tokens file, READY=1; the old token is refused after."""
    rotated = WebhookToken(name="tv", token="r" * 24, passphrase="open sesame")
    config = tmp_path / "tradingd.toml"
    config.write_text(
        f'[control]\nsocket = "{short_dir / "tradingd.sock"}"\n'
        '[sources]\nstdin = false\n[webhook]\nbind = "127.0.0.1:0"\ntokens_file = "tokens"\n'
    )
    tokens = tmp_path / "tokens"
    tokens.write_bytes(msgspec.json.encode([TOKEN]))
    notify = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
    await notify.bind(str(short_dir / "notify"))
    env = {**os.environ, "NOTIFY_SOCKET": str(short_dir / "notify")}
    with notify:
        proc = await trio.lowlevel.open_process(
            [*TRADINGD, "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with trio.fail_after(30):
                # STATUS= lines say what startup is doing until READY=1 comes.
                ready = await notify.recv(4096)
                while not ready.startswith(b"READY=1"):
                    ready = await notify.recv(4096)
                webhook = re.search(rb"http://127\.0\.0\.1:\d+", ready)
                assert webhook is not None
                tokens.write_bytes(msgspec.json.encode([rotated]))
                proc.send_signal(signal.SIGHUP)
                assert await notify.recv(4096) == b"RELOADING=1\nSTATUS=reloading"
                assert (await notify.recv(4096)).startswith(b"READY=1\n")
                async with httpx.AsyncClient(base_url=webhook[0].decode()) as http:
                    old = await http.post(f"/webhook/{TOKEN.token}", json={**ALERT, "id": "o"})
                    new = await http.post(f"/webhook/{rotated.token}", json={**ALERT, "id": "n"})
            assert (old.status_code, new.status_code) == (401, 200)
            proc.terminate()
            with trio.fail_after(30):
                assert await proc.wait() == 0
        finally:
            proc.kill()
            with trio.fail_after(10):
                await proc.wait()
