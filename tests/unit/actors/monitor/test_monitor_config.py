"""The ``[monitor]`` config section: read from TOML, checked, and the same defaults as the
monitor's own timers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import msgspec
import pytest

from actors.monitor.core import MonitorTimers
from daemon.config import ConfigError, MonitorConfig, load_config

if TYPE_CHECKING:
    from pathlib import Path


def test_defaults_are_the_monitor_timers_defaults() -> None:
    """No [monitor] section means exactly the timers the monitor would pick itself."""
    assert MonitorTimers(**msgspec.structs.asdict(MonitorConfig())) == MonitorTimers()
    assert {f.name for f in attrs.fields(MonitorTimers)} == set(MonitorConfig.__struct_fields__)


def test_monitor_timers_are_read(tmp_path: Path) -> None:
    """Each timer comes from its field; the others keep their defaults."""
    path = tmp_path / "tradingd.toml"
    path.write_text("[monitor]\nunhealthy_poll = 0.5\nrecheck = 10\n", encoding="utf-8")
    monitor = load_config(str(path)).monitor
    assert (monitor.unhealthy_poll, monitor.recheck, monitor.first_answer) == (0.5, 10.0, 5.0)


@pytest.mark.parametrize("line", ["unhealthy_poll = 0", "recheck = -1", "lookups_per_sec = 3"])
def test_bad_monitor_settings_are_refused_by_name(tmp_path: Path, line: str) -> None:
    """A zero or negative timer, or a misspelt field, is an error naming [monitor]."""
    path = tmp_path / "tradingd.toml"
    path.write_text(f"[monitor]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[monitor\]"):
        load_config(str(path))
