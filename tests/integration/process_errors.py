"""Running `tradingd` as a subprocess to see how it fails: its environment without keys,
JSON log lines, and the one ERROR line an expected failure writes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from tests.integration.daemons import ROOT, TRADINGD

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping


def quiet_environ(**extra: str) -> dict[str, str]:
    """This process's environment without broker keys or credentials, JSON log lines."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APCA_", "TRADINGD_", "NOTIFY_", "LISTEN_"))
        and k not in ("CREDENTIALS_DIRECTORY", "INVOCATION_ID", "JOURNAL_STREAM")
    }
    return {**kept, "TRADINGD_LOG_FORMAT": "json", **extra}


async def tradingd(
    *args: str, env: Mapping[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(60):
        return await trio.run_process(
            [*TRADINGD, *args],
            stdin=stdin,
            capture_stdout=True,
            capture_stderr=True,
            cwd=ROOT,
            env=dict(env or quiet_environ()),
            check=False,
        )


def the_error_line(stderr: bytes) -> dict[str, Any]:
    """The one ERROR line of a run whose every stderr line is a JSON log line."""
    assert b"Traceback" not in stderr, stderr.decode()
    lines = [msgspec.json.decode(line) for line in stderr.splitlines()]
    errors: list[dict[str, Any]] = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1, stderr.decode()
    return errors[0]
