"""The exit statuses of ``tradingd``, one meaning each (README "Exit status").

The numbers are sysexits(3)'s where one fits, so they read the same as other daemons'. The
units keep systemd from restarting on the statuses a restart cannot cure
(``RestartPreventExitStatus=`` lists ``NO_RESTART``): a wrong key or a typo in the config
stays wrong however often the daemon starts, and every start costs the venue's rate limit.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    # `run --once` ended with orders unresolved (or its output gone before the summary);
    # `run` stopped on an error a restart may cure (the venue unreachable, the journal unwritable).
    FAILED = 1
    USAGE = 64  # the command line is wrong (EX_USAGE)
    UNREACHABLE = 69  # a client command cannot reach the daemon, or lost it midway (EX_UNAVAILABLE)
    REFUSED = 70  # the daemon answered a client command with a refusal
    IN_USE = 73  # a socket or port the daemon must listen on is taken (EX_CANTCREAT)
    CREDENTIALS_REFUSED = 77  # the venue refused the broker keys (EX_NOPERM)
    BAD_CONFIG = 78  # the config, a credential or the webhook tokens cannot be used (EX_CONFIG)
    INTERRUPTED = 130  # SIGINT (Ctrl-C) before the command finished, as a shell reports it


# What an operator must fix before a start can succeed: systemd must not restart on these.
NO_RESTART = (
    ExitStatus.USAGE,
    ExitStatus.IN_USE,
    ExitStatus.CREDENTIALS_REFUSED,
    ExitStatus.BAD_CONFIG,
)
