"""What an operator must fix, as the real `tradingd` process reports it: one ERROR line
saying what is wrong and what to do, no traceback, and the exit status of the README's table."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
import trio

from brokers.sim import SimConfig, running_sim
from daemon.exit_status import ExitStatus
from tests.integration.daemons import ROOT, TRADINGD
from tests.integration.process_errors import quiet_environ, the_error_line, tradingd

if TYPE_CHECKING:
    from pathlib import Path

TOKENS = b'[{"name": "tv", "token": "tttttttttttttttttttttttt", "passphrase": "open sesame"}]'


def paper_config(path: Path, body: str) -> str:
    path.write_text("[sources]\nstdin = false\n" + body)
    return str(path)


async def test_keys_the_venue_refuses_exit_77_with_one_line(tmp_path: Path) -> None:
    """Wrong keys against a venue that checks them: 'credentials refused', what to set, 77."""
    sim = SimConfig(key_id="right-key", secret_key="right-secret")
    async with running_sim(sim) as venue:
        config = paper_config(
            tmp_path / "tradingd.toml",
            f'[broker]\nkind = "paper"\nbase_url = "{venue.alpaca_url}"\n'
            f'stream_url = "{venue.stream_url}"\ndata_url = "{venue.data_url}"\n'
            f'[journal]\npath = "{tmp_path / "journal.sqlite3"}"\n'
            f'[control]\nsocket = "{tmp_path / "tradingd.sock"}"\n',
        )
        env = quiet_environ(APCA_API_KEY_ID="wrong-key", APCA_API_SECRET_KEY="wrong-secret")
        result = await tradingd("run", "--config", config, env=env)
    assert result.returncode == ExitStatus.CREDENTIALS_REFUSED
    error = the_error_line(result.stderr)
    # The startup reads run side by side: whichever the venue refused first is named.
    assert error["event"].startswith("credentials refused: GET /v2/")
    assert "APCA_API_KEY_ID and APCA_API_SECRET_KEY" in error["event"]
    assert error["exit_status"] == 77
    assert error["event"].count("credentials refused (401)") == 1
    assert b"wrong-secret" not in result.stderr


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("[broker\nkind = 1\n", "not valid TOML: Expected ']'"),
        ('[broker]\nkind = "nope"\n', "[broker] kind: Invalid enum value 'nope'"),
        ("[risk]\nmax_order_qty = -1\n", "[risk]: `max_order_qty` must be"),
        ("[broker]\nkidn = 'paper'\n", "[broker] kidn: unknown field"),
        (
            '[broker]\nkind = "alpaca"\nbase_url = "https://paper-api.alpaca.markets"\n'
            'stream_url = "wss://paper-api.alpaca.markets/stream"\n'
            'data_url = "wss://stream.data.alpaca.markets/v2/iex"\n',
            "credential APCA_API_KEY_ID is missing",
        ),
        ('[broker]\nkind = "tradovate"\n', '[broker] kind = "tradovate" is not supported yet'),
        ('[webhook]\nbind = "127.0.0.1:0"\n', "[webhook] needs tokens"),
        (
            '[control]\nsocket = "/proc/no-such-dir/s.sock"\n',
            "cannot listen on /proc/no-such-dir/s.sock: No such file or directory",
        ),
    ],
    ids=[
        "toml",
        "invalid-value",
        "validation",
        "unknown-key",
        "no-keys",
        "tradovate",
        "no-tokens",
        "path",
    ],
)
async def test_a_config_that_cannot_be_used_exits_78_with_one_line(
    tmp_path: Path, body: str, what: str
) -> None:
    """TOML, validation, unknown keys, missing keys or tokens, a broker kind with no adapter
    yet, a socket path this host cannot use: 'bad config' and 78."""
    result = await tradingd("run", "--config", paper_config(tmp_path / "bad.toml", body))
    assert result.returncode == ExitStatus.BAD_CONFIG
    error = the_error_line(result.stderr)
    assert error["event"].startswith("bad config: ")
    assert what in error["event"]
    assert error["event"].endswith("; fix it, then start again")


async def wait_ready(notify: trio.socket.SocketType) -> None:
    """Until READY=1 (STATUS= lines may come first, while the startup gate waits)."""
    with trio.fail_after(60):
        while not (await notify.recv(4096)).startswith(b"READY=1"):
            pass


async def test_a_second_daemon_on_a_live_control_socket_exits_73(short_dir: Path) -> None:
    """Two daemons, one control socket: the second says so and exits 73; the first runs on."""
    config = paper_config(short_dir / "t.toml", f'[control]\nsocket = "{short_dir / "s.sock"}"\n')
    notify = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
    await notify.bind(str(short_dir / "notify"))
    first_env = quiet_environ(NOTIFY_SOCKET=str(short_dir / "notify"))
    with notify:
        first = await trio.lowlevel.open_process(
            [*TRADINGD, "run", "--config", config],
            cwd=ROOT,
            env=first_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_ready(notify)
            second = await tradingd("run", "--config", config)
            status = await tradingd("status", "--json", "--socket", str(short_dir / "s.sock"))
        finally:
            first.terminate()
            with trio.fail_after(30):
                await first.wait()
    assert second.returncode == ExitStatus.IN_USE
    error = the_error_line(second.stderr)
    assert error["event"] == (
        f"in use: {short_dir / 's.sock'}: another tradingd is listening there; stop whatever "
        "listens there or configure another socket or port, then start again"
    )
    assert status.returncode == ExitStatus.OK


@pytest.mark.parametrize("where", ["webhook", "metrics", "tcp"])
async def test_a_port_already_bound_exits_73(short_dir: Path, where: str) -> None:
    """The webhook's, the metrics' or the TCP source's port taken: which one, and 73."""
    taken = trio.socket.socket()
    await taken.bind(("127.0.0.1", 0))
    taken.listen()
    address = f"127.0.0.1:{taken.getsockname()[1]}"
    (short_dir / "tokens.json").write_bytes(TOKENS)
    section = {
        "webhook": f'[webhook]\nbind = "{address}"\ntokens_file = "tokens.json"\n',
        "metrics": f'[metrics]\nbind = "{address}"\n',
        "tcp": "",
    }[where]
    sources = f'tcp = "{address}"\n' if where == "tcp" else ""
    config = paper_config(
        short_dir / "t.toml", f'{sources}[control]\nsocket = "{short_dir / "s.sock"}"\n{section}'
    )
    with taken:
        result = await tradingd("run", "--config", config)
    assert result.returncode == ExitStatus.IN_USE
    error = the_error_line(result.stderr)
    assert error["event"].startswith(f"in use: cannot listen on {address}: Address already in use")


async def test_the_paper_venue_on_a_port_already_bound_exits_73() -> None:
    """`tradingd sim --port N` with N taken: which address, and 73."""
    with trio.socket.socket() as taken:
        await taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await tradingd("sim", "--port", str(port))
    assert result.returncode == ExitStatus.IN_USE
    error = the_error_line(result.stderr)
    assert error["event"].startswith(f"in use: cannot listen on 127.0.0.1:{port}: ")


@pytest.mark.parametrize(
    "args", [["run", "--bogus"], [], ["status", "--limit"]], ids=["flag", "none", "value"]
)
async def test_a_wrong_command_line_exits_64(args: list[str]) -> None:
    """argparse's errors exit with the usage status, 64, not its own 2."""
    result = await tradingd(*args)
    assert result.returncode == ExitStatus.USAGE
    assert b"Traceback" not in result.stderr
    assert result.stderr.decode().splitlines()[-1].startswith("tradingd")
    assert ": error: " in result.stderr.decode()


@pytest.mark.parametrize("command", [["status"], ["send"], ["halt"]])
async def test_a_client_command_with_no_daemon_exits_69(
    short_dir: Path, command: list[str]
) -> None:
    """Nobody listening on the socket: one line saying so, 69."""
    result = await tradingd(*command, "--socket", str(short_dir / "none.sock"), stdin=b"{}\n")
    assert result.returncode == ExitStatus.UNREACHABLE
    error = the_error_line(result.stderr)
    assert error["event"].startswith(f"cannot reach tradingd at {short_dir / 'none.sock'}: ")
    assert error["event"].endswith("(is it running?)")


async def test_a_request_the_daemon_refuses_exits_70(short_dir: Path) -> None:
    """`approve` of a correction that does not exist: the daemon's reason, 70."""
    socket = short_dir / "s.sock"
    config = paper_config(short_dir / "t.toml", f'[control]\nsocket = "{socket}"\n')
    notify = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
    await notify.bind(str(short_dir / "notify"))
    with notify:
        daemon = await trio.lowlevel.open_process(
            [*TRADINGD, "run", "--config", config],
            cwd=ROOT,
            env=quiet_environ(NOTIFY_SOCKET=str(short_dir / "notify")),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_ready(notify)
            refused = await tradingd("approve", "999", "--socket", str(socket))
        finally:
            daemon.terminate()
            with trio.fail_after(30):
                await daemon.wait()
    assert refused.returncode == ExitStatus.REFUSED
    error = the_error_line(refused.stderr)
    assert error["event"].startswith("approve refused: correction 999: ")
