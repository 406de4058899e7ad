"""What the daemon stopped on, as one log line and one exit status; tracebacks are for bugs.

An error raised under nested nurseries arrives wrapped in exception groups, often several
copies of it (every startup read fails alike on a wrong key). ``explain`` unwraps them: when
every leaf is an error tradingd raises on purpose (``TradingError``), the one an operator
must act on first gives the line and the status; anything else is a bug and keeps its
traceback. The lines read ``<what is wrong>: <the error>; <what to do>``.
"""

from __future__ import annotations

import re
from typing import assert_never

import attrs

from brokers.errors import AuthenticationFailed, TradingError
from daemon.config import ConfigError
from daemon.exit_status import ExitStatus
from daemon.listeners import ListenerError, SocketInUse, cannot_listen


@attrs.frozen
class Fatal:
    """One line for the log, and the status to exit with."""

    status: ExitStatus
    message: str


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside ``error``'s groups, however deep; ``[error]`` for a plain one."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def bind_failure(error: BaseException, where: str) -> ListenerError | None:
    """A server's failed start as a listener's error naming ``where``, when every leaf of
    ``error`` is an OSError (a bind refused deep inside a library's nurseries); else None."""
    found = leaves(error)
    refusals = [leaf for leaf in found if isinstance(leaf, OSError)]
    if not refusals or len(refusals) != len(found):
        return None
    return cannot_listen(where, refusals[0])


def status_of(error: TradingError) -> ExitStatus:
    """The exit status for one error tradingd raised on purpose."""
    if isinstance(error, AuthenticationFailed):
        return ExitStatus.CREDENTIALS_REFUSED
    if isinstance(error, SocketInUse):
        return ExitStatus.IN_USE
    # A socket path or address this host cannot listen on is the config's to fix.
    if isinstance(error, ConfigError | ListenerError):
        return ExitStatus.BAD_CONFIG
    return ExitStatus.FAILED


# Which of several different failures the line names: the ones a restart cannot cure first,
# and of those the credentials (nothing else can be checked without them).
_PRECEDENCE = (
    ExitStatus.CREDENTIALS_REFUSED,
    ExitStatus.BAD_CONFIG,
    ExitStatus.IN_USE,
    ExitStatus.FAILED,
)


def explain(error: BaseException) -> Fatal | None:
    """The line and status for what stopped the daemon; None when it is a bug."""
    found = leaves(error)
    expected = [leaf for leaf in found if isinstance(leaf, TradingError)]
    if not expected or len(expected) != len(found):
        return None
    chosen = min(expected, key=lambda leaf: _PRECEDENCE.index(status_of(leaf)))
    status = status_of(chosen)
    return Fatal(status, _one_line(status, str(chosen)))


def _one_line(status: ExitStatus, detail: str) -> str:
    detail = re.sub(r"\s*\n\s*", " ", detail.strip())
    match status:
        case ExitStatus.CREDENTIALS_REFUSED:
            return (
                f"credentials refused: {detail}; set the broker keys of this venue "
                "(APCA_API_KEY_ID and APCA_API_SECRET_KEY, as systemd credentials or in the "
                "environment: paper keys for a paper URL, live keys for live), then start again"
            )
        case ExitStatus.IN_USE:
            return (
                f"in use: {detail}; stop whatever listens there or configure another "
                "socket or port, then start again"
            )
        case ExitStatus.BAD_CONFIG:
            return f"bad config: {detail}; fix it, then start again"
        case ExitStatus.FAILED:
            return f"stopped: {detail}"
        case (
            ExitStatus.OK
            | ExitStatus.USAGE
            | ExitStatus.UNREACHABLE
            | ExitStatus.REFUSED
            | ExitStatus.INTERRUPTED
        ):
            # Client and command-line statuses: never the outcome of a daemon's error.
            return detail
        case _:
            assert_never(status)
