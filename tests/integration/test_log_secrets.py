"""A daemon run as systemd runs it, with canary secrets planted everywhere a secret comes
from: its stderr is one JSON object per line, and no canary appears in it or the journal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import msgspec
import trio

from daemon.webhook.auth import WebhookToken
from tests.prometheus_text import parse_exposition, value

ROOT = Path(__file__).resolve().parents[2]
TRADINGD = [sys.executable, "-m", "daemon.cli"]

KEY_ID = "PKQ7CANARYKEY4F2D9"  # from the environment
SECRET_KEY = "sk-7e1b0c9a4d-canary-secret"  # from $CREDENTIALS_DIRECTORY
TOKEN = WebhookToken(
    name="tv-main", token="tok-9d8c7b6a5f4e3d2c1b0a", passphrase="pass-3c5e7a9b1d-canary"
)
HMAC_TOKEN = WebhookToken(
    name="signer",
    token="tok-hmac-0a1b2c3d4e5f6a7b",
    passphrase="pass-hmac-5d4c3b2a",
    hmac_secret="hmac-6f5e4d3c2b1a-canary",
)
# What senders get wrong can be a near miss of a real secret: never logged either.
WRONG_PASSPHRASE = "pass-3c5e7a9b1d-canarx"
WRONG_TOKEN = "tok-9d8c7b6a5f4e3d2c1b0b"
CANARIES: tuple[str, ...] = (
    KEY_ID,
    SECRET_KEY,
    TOKEN.token,
    TOKEN.passphrase,
    HMAC_TOKEN.token,
    HMAC_TOKEN.passphrase,
    HMAC_TOKEN.hmac_secret or "",
    WRONG_PASSPHRASE,
    WRONG_TOKEN,
)


def _journal_bytes(folder: Path) -> bytes:
    """The journal's file and its WAL, as bytes: a secret stored there would show."""
    return b"".join(path.read_bytes() for path in folder.glob("journal.sqlite3*"))


def _logged_field(stderr: Path, field: str) -> Any:
    """The value of ``field`` in the first JSON log line that has it."""
    for line in stderr.read_bytes().splitlines():
        event = msgspec.json.decode(line)
        if field in event:
            return event[field]
    raise AssertionError(f"no log line with {field!r}")


async def cli(*args: str, stdin: bytes = b"") -> bytes:
    result = await trio.run_process(
        [*TRADINGD, *args], stdin=stdin, capture_stdout=True, capture_stderr=True, cwd=ROOT
    )
    return result.stdout


async def test_daemon_logs_json_lines_and_never_a_secret(short_dir: Path, tmp_path: Path) -> None:
    """Under systemd (INVOCATION_ID), DEBUG level: every stderr line parses as an event;
    credentials, tokens, passphrases and HMAC secrets, right or wrong, appear nowhere."""
    socket_path = short_dir / "tradingd.sock"
    journal_path = tmp_path / "journal.sqlite3"
    config = tmp_path / "tradingd.toml"
    config.write_text(
        f'[journal]\npath = "{journal_path}"\n'
        f'[control]\nsocket = "{socket_path}"\n'
        '[sources]\nstdin = false\n[webhook]\nbind = "127.0.0.1:0"\n'
        '[metrics]\nbind = "127.0.0.1:0"\n'
    )
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "webhook-tokens").write_bytes(msgspec.json.encode([TOKEN, HMAC_TOKEN]))
    (credentials / "APCA_API_SECRET_KEY").write_text(SECRET_KEY)
    notify = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
    await notify.bind(str(short_dir / "notify"))
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(short_dir / "notify"),
        "CREDENTIALS_DIRECTORY": str(credentials),
        "APCA_API_KEY_ID": KEY_ID,
        "INVOCATION_ID": "3f2a9c0d5b7e4e1f8a6b2c4d0e9f1a3b",
        "TRADINGD_LOG_LEVEL": "DEBUG",
    }
    env.pop("TRADINGD_LOG_FORMAT", None)
    stderr_path = tmp_path / "stderr"
    with notify, stderr_path.open("wb") as stderr:
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
                webhook = re.search(rb"http://127\.0\.0\.1:\d+", ready)
                assert webhook is not None
                async with httpx.AsyncClient(base_url=webhook[0].decode()) as http:
                    good = {"passphrase": TOKEN.passphrase, "ticker": "AAPL", "position_size": 2}
                    statuses = [
                        (await http.post(f"/webhook/{TOKEN.token}", json=good)).status_code,
                        (await http.post(f"/webhook/{TOKEN.token}", json=good)).status_code,
                        (
                            await http.post(
                                f"/webhook/{TOKEN.token}",
                                json={**good, "passphrase": WRONG_PASSPHRASE},
                            )
                        ).status_code,
                        (await http.post(f"/webhook/{WRONG_TOKEN}", json=good)).status_code,
                        (
                            await http.post(
                                f"/webhook/{HMAC_TOKEN.token}",
                                json={**good, "passphrase": HMAC_TOKEN.passphrase},
                            )
                        ).status_code,
                    ]
                await cli(
                    "send",
                    "--socket",
                    str(socket_path),
                    stdin=b'{"id":"l1","symbol":"MSFT","action":"buy","qty":1}\nnot json\n',
                )
                page = (await cli("metrics", "--socket", str(socket_path))).decode()
                # The same page over HTTP, where the daemon said it serves it.
                [scrape_url] = _logged_field(stderr_path, "binds")
                async with httpx.AsyncClient() as http:
                    scraped = (await http.get(f"{scrape_url}/metrics")).text
                await cli("halt", "--socket", str(socket_path))
                await cli("resume", "--socket", str(socket_path))
                proc.send_signal(signal.SIGTERM)
                assert await proc.wait() == 0, stderr_path.read_text()
        finally:
            proc.kill()
            with trio.fail_after(10):
                await proc.wait()
    assert statuses == [200, 200, 401, 401, 401]
    # Two alerts that reached the router (one a duplicate) and two socket lines, all acked.
    families = parse_exposition(page)
    assert value(families, "tradingd_signal_ack_seconds_count") == 4
    assert value(families, "tradingd_webhook_answers_total", status="200") == 2
    assert value(families, "tradingd_webhook_answers_total", status="401") == 3
    assert parse_exposition(scraped).keys() == families.keys()

    output = stderr_path.read_bytes()
    events = [msgspec.json.decode(line) for line in output.splitlines()]
    assert all({"time", "level", "logger", "event"} <= event.keys() for event in events)
    by_event = {event["event"]: event for event in events}
    assert any(e.get("sources") and e["event"].startswith("ready") for e in events)
    assert by_event["webhook tv-main: bad passphrase"]["token_name"] == "tv-main"
    assert "webhook: unknown token from 127.0.0.1" in by_event
    assert by_event["control: halt requested (flatten=False)"]["command"] == "halt"
    assert events[-1]["level"] in ("info", "warning")

    journal = _journal_bytes(tmp_path)
    for canary in CANARIES:
        assert canary.encode() not in output, canary
        assert canary.encode() not in journal, canary
        assert canary not in page, canary
        assert canary not in scraped, canary
