"""One ``tradingd run`` process on the embedded paper venue with every signal source open
(stdin, the unix socket, TCP and the webhook), for throwing outside input at.

Real processes mean real time: every wait is bounded by ``PROCESS_LIMIT`` and fails saying
what it waited for. The process is started without trio (``subprocess.Popen``) so that it
outlives the ``trio.run`` of each Hypothesis example that talks to it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tomllib
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import msgspec
import trio

from daemon.control.client import ControlUnavailable, ask
from daemon.control.server import ControlRequest
from tests.scenarios.crash_processes import PROCESS_LIMIT, ROOT, TRADINGD, eventually

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PASSPHRASE = "open sesame"
TOKEN = "t" * 24


def free_port() -> int:
    """A loopback port nobody listens on right now (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def write_config(workdir: Path) -> Path:
    """Every source on: stdin, the unix socket, TCP on loopback and the webhook."""
    tokens = workdir / "webhook-tokens.json"
    tokens.write_bytes(
        msgspec.json.encode([{"name": "tv", "token": TOKEN, "passphrase": PASSPHRASE}])
    )
    path = workdir / "tradingd.toml"
    path.write_text(
        f"""
[broker]
kind = "paper"

[journal]
path = "{workdir / "journal.sqlite3"}"

[control]
socket = "{workdir / "tradingd.sock"}"

[sources]
stdin = true
socket = true
tcp = "127.0.0.1:{free_port()}"

[webhook]
bind = "127.0.0.1:{free_port()}"
tokens_file = "{tokens}"
burst = 100000
rate_per_minute = 6000000
# Fuzzed bodies fail authentication by the thousand, all from one address.
auth_failures_burst = 100000
auth_failures_per_minute = 6000000
""",
        encoding="utf-8",
    )
    return path


@attrs.define
class InputDaemon:
    """The process, and async ways to talk to it; each call runs inside a ``trio.run`` of
    its caller's, so that one daemon outlives many Hypothesis examples."""

    proc: subprocess.Popen[bytes]
    workdir: Path
    config: dict[str, Any]

    @property
    def socket(self) -> str:
        return str(self.workdir / "tradingd.sock")

    def log(self) -> str:
        return (self.workdir / "daemon.log").read_text(errors="replace")

    def exited(self) -> str | None:
        """Why the daemon is gone (its exit status and the end of its log), or None."""
        if self.proc.poll() is None:
            return None
        return f"daemon exited with {self.proc.returncode}:\n{self.log()[-4000:]}"

    async def ready(self) -> None:
        """Until the daemon answers on its socket (after its startup gate)."""

        async def answers() -> bool | None:
            gone = self.exited()
            if gone is not None:
                raise AssertionError(gone)
            try:
                reply = await ask(self.socket, ControlRequest(command="status"))
            except (ControlUnavailable, OSError):
                return None
            # The socket answers before the startup gate passes: ready says it has.
            return True if reply.ok and reply.data.get("ready") else None

        await eventually(answers, "the daemon to be ready")

    async def still_up(self) -> None:
        """Running, and answering a control question."""
        gone = self.exited()
        assert gone is None, gone
        with trio.fail_after(PROCESS_LIMIT):
            reply = await ask(self.socket, ControlRequest(command="status"))
        assert reply.ok, reply.error

    async def stdin_acks(self, lines: list[bytes]) -> list[Any]:
        """Write lines to the daemon's stdin; the ack lines its stdout answers with."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        # Duplicates: closing them at the end of this trio run leaves the pipes open.
        stdin = trio.lowlevel.FdStream(os.dup(self.proc.stdin.fileno()))
        stdout = trio.lowlevel.FdStream(os.dup(self.proc.stdout.fileno()))
        async with stdin, stdout:
            with trio.fail_after(PROCESS_LIMIT):
                await stdin.send_all(b"".join(line + b"\n" for line in lines))
                return await self._read_acks(stdout, len(lines))

    async def stream_acks(self, stream: trio.abc.Stream, lines: list[bytes]) -> list[Any]:
        """Lines on one connection (unix or TCP); its acks, one per line."""
        async with stream:
            with trio.fail_after(PROCESS_LIMIT):
                await stream.send_all(b"".join(line + b"\n" for line in lines))
                return await self._read_acks(stream, len(lines))

    async def socket_acks(self, lines: list[bytes]) -> list[Any]:
        return await self.stream_acks(await trio.open_unix_socket(self.socket), lines)

    async def tcp_acks(self, lines: list[bytes]) -> list[Any]:
        host, _, port = self.config["sources"]["tcp"].rpartition(":")
        return await self.stream_acks(await trio.open_tcp_stream(host, int(port)), lines)

    async def control_reply(self, line: bytes) -> Any:
        """One control line on a connection of its own; the reply line."""
        stream = await trio.open_unix_socket(self.socket)
        async with stream:
            with trio.fail_after(PROCESS_LIMIT):
                await stream.send_all(line + b"\n")
                data = b""
                while b"\n" not in data:
                    chunk = await stream.receive_some()
                    if not chunk:
                        raise AssertionError(f"no reply to {line[:200]!r}; {self.exited()}")
                    data += chunk
        # A raw newline inside a generated value makes two lines, each answered: the first
        # answer is this line's (the second's may already be in the same chunk).
        return msgspec.json.decode(data.split(b"\n", 1)[0])

    async def post_alerts(self, bodies: list[bytes]) -> list[httpx.Response]:
        url = f"http://{self.config['webhook']['bind']}/webhook/{TOKEN}"
        with trio.fail_after(PROCESS_LIMIT):
            async with httpx.AsyncClient(timeout=PROCESS_LIMIT) as http:
                return [await http.post(url, content=body) for body in bodies]

    async def _read_acks(self, stream: trio.abc.ReceiveStream, count: int) -> list[Any]:
        acks: list[Any] = []
        buffer = b""
        while len(acks) < count:
            chunk = await stream.receive_some()
            if not chunk:
                raise AssertionError(
                    f"the output closed after {len(acks)} of {count} acks; {self.exited()}"
                )
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            acks.extend(msgspec.json.decode(line) for line in complete if line)
        return acks

    def terminate(self) -> None:
        """SIGTERM, then wait (bounded) for the exit."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=PROCESS_LIMIT)


@contextmanager
def input_daemon(workdir: Path) -> Iterator[InputDaemon]:
    """The daemon on ``workdir``'s config (written on first use), ready; killed at the end
    of the block if still running. A second block on the same ``workdir`` is a restart on
    the same journal."""
    config = workdir / "tradingd.toml"
    if not config.exists():
        write_config(workdir)
    settings = tomllib.loads(config.read_text(encoding="utf-8"))
    env = {**os.environ, "TRADINGD_LOG_LEVEL": "INFO"}
    env.pop("NOTIFY_SOCKET", None)
    with (workdir / "daemon.log").open("ab") as log_file:
        proc = subprocess.Popen(
            [*TRADINGD, "run", "--config", str(config)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=env,
        )
    daemon = InputDaemon(proc, workdir, settings)
    with proc:  # closes the pipes and reaps the process
        try:
            trio.run(daemon.ready)
            yield daemon
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=PROCESS_LIMIT)
