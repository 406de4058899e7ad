"""The unit files in systemd/: valid to systemd-analyze, and hardened (exposure <= 2.0).

Runs offline against copies whose ExecStart points at an executable that exists here (verify
insists on one); skipped where systemd-analyze is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.exit_status import NO_RESTART
from daemon.listeners import SYSTEM_SOCKET
from daemon.webhook.auth import parse_tokens

UNITS = Path(__file__).resolve().parents[2] / "systemd"
INSTALLED_PATH = "/opt/tradingd/bin/tradingd"
ANALYZE = shutil.which("systemd-analyze")

needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


@pytest.fixture
def unit_copies(tmp_path: Path) -> Path:
    executable = str(Path(sys.executable).resolve())
    for unit in ("tradingd.service", "tradingd.socket", "tradingd@.service"):
        text = (UNITS / unit).read_text()
        assert INSTALLED_PATH in text or unit.endswith(".socket")
        (tmp_path / unit).write_text(text.replace(INSTALLED_PATH, executable))
    shutil.copy(tmp_path / "tradingd@.service", tmp_path / "tradingd@paper.service")
    return tmp_path


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=60, check=False)


@needs_analyze
def test_units_verify_without_a_single_warning(unit_copies: Path) -> None:
    """systemd-analyze verify: no unknown keys, bad values or missing dependencies."""
    result = analyze(
        "verify",
        "--man=no",
        str(unit_copies / "tradingd.service"),
        str(unit_copies / "tradingd.socket"),
        str(unit_copies / "tradingd@paper.service"),
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_analyze
@pytest.mark.parametrize("unit", ["tradingd.service", "tradingd@paper.service"])
def test_service_exposure_is_at_most_2(unit_copies: Path, unit: str) -> None:
    """systemd-analyze security --offline: overall exposure 2.0 or lower."""
    result = analyze("security", "--offline=yes", "--threshold=20", str(unit_copies / unit))
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert score is not None, result.stdout + result.stderr
    assert float(score[1]) <= 2.0
    assert result.returncode == 0


@pytest.mark.parametrize("unit", ["tradingd.service", "tradingd@.service"])
def test_services_do_not_restart_on_what_an_operator_must_fix(unit: str) -> None:
    """RestartPreventExitStatus= lists exactly usage, in use, keys refused and bad config."""
    text = (UNITS / unit).read_text()
    assert "Restart=on-failure\n" in text
    prevented = re.findall(r"^RestartPreventExitStatus=(.*)$", text, re.MULTILINE)
    assert prevented == ["64 73 77 78"]
    assert [int(code) for code in prevented[0].split()] == sorted(NO_RESTART)


def test_socket_unit_listens_where_the_cli_looks() -> None:
    """tradingd.socket's path is the one `tradingd status` tries for the system service."""
    text = (UNITS / "tradingd.socket").read_text()
    assert f"ListenStream={SYSTEM_SOCKET}\n" in text
    assert "SocketMode=0660\n" in text


def test_example_config_and_tokens_are_accepted() -> None:
    """The example layout in systemd/examples loads as it is documented."""
    config = load_config(str(UNITS / "examples" / "tradingd.toml"))
    assert (config.broker.kind, config.sources.stdin, config.webhook.bind) == (
        "alpaca",
        False,
        "127.0.0.1:8080",
    )
    tokens = parse_tokens((UNITS / "examples" / "webhook-tokens.json").read_bytes(), "example")
    assert [t.name for t in tokens] == ["tv-main"]
