"""The TOML config: defaults, every section, and errors that name file, section and field."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from daemon.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from pathlib import Path


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tradingd.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_no_config_file_means_the_embedded_paper_venue_and_stdin() -> None:
    """load_config(None) gives every default: paper without URLs, stdin on, paths unset."""
    config = load_config(None)
    assert config == Config()
    assert config.broker.kind == "paper"
    assert (config.broker.base_url, config.broker.stream_url, config.broker.data_url) == (
        None,
        None,
        None,
    )
    assert config.journal.path is None
    assert config.control.socket is None
    assert config.sources.stdin is True


def test_an_empty_file_is_all_defaults(tmp_path: Path) -> None:
    """A file with nothing in it configures nothing."""
    assert load_config(write(tmp_path, "")) == Config()


def test_every_section_is_read(tmp_path: Path) -> None:
    """Broker URLs, journal path, control socket and sources come from their sections."""
    config = load_config(
        write(
            tmp_path,
            """
            [broker]
            kind = "alpaca"
            base_url = "https://paper-api.alpaca.markets"
            stream_url = "wss://paper-api.alpaca.markets/stream"
            data_url = "wss://stream.data.alpaca.markets/v2/iex"

            [journal]
            path = "/var/lib/tradingd/journal.sqlite3"

            [control]
            socket = "/run/tradingd/control.sock"

            [risk]

            [sources]
            stdin = false
            """,
        )
    )
    assert config.broker.kind == "alpaca"
    assert config.broker.base_url == "https://paper-api.alpaca.markets"
    assert config.broker.stream_url == "wss://paper-api.alpaca.markets/stream"
    assert config.broker.data_url == "wss://stream.data.alpaca.markets/v2/iex"
    assert config.journal.path == "/var/lib/tradingd/journal.sqlite3"
    assert config.control.socket == "/run/tradingd/control.sock"
    assert config.sources.stdin is False


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    """A relative journal path or socket is taken from the config file's directory."""
    config = load_config(
        write(tmp_path, '[journal]\npath = "state/j.sqlite3"\n[control]\nsocket = "c.sock"\n')
    )
    assert config.journal.path == str(tmp_path / "state" / "j.sqlite3")
    assert config.control.socket == str(tmp_path / "c.sock")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[broker]\nbase_ulr = "https://x"\n', r"\[broker\] base_ulr: unknown field"),
        ("[brokers]\n", r"\[brokers\]: unknown section"),
        ('[broker]\nkind = "ib"\n', r"\[broker\] kind: Invalid enum value 'ib'"),
        ("[sources]\nstdin = 1\n", r"\[sources\] stdin: Expected `bool`, got `int`"),
        ("[risk]\nmax_notional = 1000\n", r"\[risk\] max_notional: unknown field"),
        ("[journal]\npath = 3\n", r"\[journal\] path: Expected `str \| null`, got `int`"),
        ("broker = 3\n", r"\[broker\]: Expected `object`, got `int`"),
    ],
)
def test_a_mistake_names_the_file_the_section_and_the_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Typos, unknown sections and wrong types are errors that say exactly where."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_alpaca_without_its_urls_is_a_readable_error(tmp_path: Path) -> None:
    """kind = "alpaca" needs base_url, stream_url and data_url; the error lists the missing."""
    path = write(tmp_path, '[broker]\nkind = "alpaca"\nbase_url = "https://api.example"\n')
    with pytest.raises(ConfigError, match=r"\[broker\] stream_url, data_url: required") as caught:
        load_config(path)
    assert path in str(caught.value)


def test_an_external_paper_venue_needs_all_three_urls(tmp_path: Path) -> None:
    """paper with a base_url points at an external venue, which needs its stream URLs too."""
    path = write(tmp_path, '[broker]\nbase_url = "http://127.0.0.1:9000"\n')
    with pytest.raises(ConfigError, match=r"\[broker\] stream_url, data_url: required"):
        load_config(path)


def test_a_url_without_a_scheme_is_refused(tmp_path: Path) -> None:
    """A base_url that is not an http(s) URL is refused, naming the field."""
    path = write(
        tmp_path,
        '[broker]\nkind = "alpaca"\nbase_url = "paper-api.alpaca.markets"\n'
        'stream_url = "wss://a/stream"\ndata_url = "wss://b/v2/iex"\n',
    )
    with pytest.raises(ConfigError, match=r"\[broker\] base_url: expected a http:// or https://"):
        load_config(path)


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    """A syntax error is a ConfigError with the file and TOML's own position."""
    path = write(tmp_path, "[broker\nkind = 'paper'\n")
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 1") as caught:
        load_config(path)
    assert str(caught.value).startswith(path)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A config path that does not exist is a ConfigError naming it."""
    path = str(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the config"):
        load_config(path)


def test_executor_policies_are_read_and_checked(tmp_path: Path) -> None:
    """[executor] picks the protection-failure and queued-signal policies; others fail."""
    assert load_config(None).executor.protection_failure == "flatten"
    assert load_config(None).executor.queued == "wait"
    text = '[executor]\nprotection_failure = "halt_symbol"\nqueued = "supersede"\n'
    config = load_config(write(tmp_path, text))
    assert (config.executor.protection_failure, config.executor.queued) == (
        "halt_symbol",
        "supersede",
    )
    with pytest.raises(ConfigError, match=r"\[executor\]"):
        load_config(write(tmp_path, '[executor]\nqueued = "drop"\n'))


def test_the_request_budget_defaults_to_alpacas_limit_and_can_be_switched_off(
    tmp_path: Path,
) -> None:
    """[broker] requests_per_minute: 200 unless set; a number, or "unlimited" for none."""
    assert load_config(None).broker.requests_per_minute == 200
    read = load_config(write(tmp_path, "[broker]\nrequests_per_minute = 150\n"))
    assert read.broker.requests_per_minute == 150
    off = load_config(write(tmp_path, '[broker]\nrequests_per_minute = "unlimited"\n'))
    assert off.broker.requests_per_minute == "unlimited"


@pytest.mark.parametrize("value", ["0", '"lots"', "-5"])
def test_a_request_budget_that_cannot_be_kept_is_refused(tmp_path: Path, value: str) -> None:
    """Zero, a negative count or a word other than "unlimited": an error naming the field."""
    with pytest.raises(ConfigError, match="requests_per_minute"):
        load_config(write(tmp_path, f"[broker]\nrequests_per_minute = {value}\n"))
