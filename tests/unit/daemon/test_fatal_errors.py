"""What the daemon stopped on, as one line and a status: groups unwrapped, bugs left alone."""

from __future__ import annotations

import errno

import pytest

from brokers.errors import AuthenticationFailed, BrokerUnavailable
from daemon.config import ConfigError
from daemon.exit_status import ExitStatus
from daemon.fatal_errors import explain
from daemon.journal.store import JournalUnavailable
from daemon.listeners import ListenerError, SocketInUse, cannot_listen

REFUSED = "GET /v2/account: credentials refused (401): unauthorized"


def nested(*errors: Exception) -> ExceptionGroup[Exception]:
    """The errors as nested nurseries hand them up: a group in a group in a group."""
    return ExceptionGroup("outer", [ExceptionGroup("inner", [ExceptionGroup("reads", [*errors])])])


def test_four_copies_of_refused_keys_in_nested_groups_are_one_line_and_77() -> None:
    """Every startup read refused alike: the line names the error once and says what to set."""
    fatal = explain(nested(*(AuthenticationFailed(REFUSED) for _ in range(4))))
    assert fatal is not None
    assert fatal.status is ExitStatus.CREDENTIALS_REFUSED
    assert fatal.message.startswith(f"credentials refused: {REFUSED}; set the broker keys")
    assert fatal.message.count("(401)") == 1


def test_a_bug_among_expected_errors_keeps_its_traceback() -> None:
    """A leaf that is not a TradingError is a bug: no line, the traceback stays."""
    assert explain(nested(AuthenticationFailed(REFUSED), KeyError("x"))) is None
    assert explain(ValueError("plain bug")) is None


@pytest.mark.parametrize(
    ("error", "status", "prefix"),
    [
        (ConfigError("t.toml: not valid TOML: oops"), ExitStatus.BAD_CONFIG, "bad config: "),
        (SocketInUse("s.sock: another tradingd is listening there"), ExitStatus.IN_USE, "in use: "),
        (ListenerError("s.sock exists and is not a socket"), ExitStatus.BAD_CONFIG, "bad config: "),
        (JournalUnavailable("journal j: in use"), ExitStatus.FAILED, "stopped: "),
        (
            BrokerUnavailable("GET /v2/account: timeout", request_may_have_arrived=False),
            ExitStatus.FAILED,
            "stopped: ",
        ),
    ],
)
def test_each_expected_error_has_its_status_and_line(
    error: Exception, status: ExitStatus, prefix: str
) -> None:
    """Config 78, a socket in use 73, other listener trouble 78, the rest 1: one line each."""
    fatal = explain(ExceptionGroup("nursery", [error]))
    assert fatal is not None
    assert (fatal.status, fatal.message.startswith(prefix + str(error))) == (status, True)


def test_keys_refused_wins_over_what_follows_from_them() -> None:
    """Several different failures: the one a restart cannot cure, credentials first."""
    fatal = explain(
        nested(
            BrokerUnavailable("stream: dropped", request_may_have_arrived=False),
            SocketInUse("s.sock: another tradingd is listening there"),
            AuthenticationFailed(REFUSED),
        )
    )
    assert fatal is not None
    assert fatal.status is ExitStatus.CREDENTIALS_REFUSED


def test_a_multi_line_error_becomes_one_line() -> None:
    """A log line is one line, whatever the error's text holds."""
    fatal = explain(ConfigError("t.toml:\n  [risk] max: bad\n"))
    assert fatal is not None
    assert fatal.message == "bad config: t.toml: [risk] max: bad; fix it, then start again"


def test_only_an_address_in_use_is_socket_in_use() -> None:
    """EADDRINUSE is 'in use'; a permission refused is the config's to fix."""
    in_use = cannot_listen("127.0.0.1:80", OSError(errno.EADDRINUSE, "Address already in use"))
    denied = cannot_listen("127.0.0.1:80", OSError(errno.EACCES, "Permission denied"))
    assert type(in_use) is SocketInUse
    assert str(in_use) == "cannot listen on 127.0.0.1:80: Address already in use"
    assert type(denied) is ListenerError
