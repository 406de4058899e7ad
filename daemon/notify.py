"""sd_notify(3) without libsystemd: state lines as datagrams to ``$NOTIFY_SOCKET``.

``READY=1`` goes out only once the startup gate has passed and the sources listen;
``WATCHDOG=1`` only while the daemon shows progress (the journal thread commits, no actor
inbox is stuck with work); ``STOPPING=1`` when a stop signal arrives. Without
``$NOTIFY_SOCKET`` (not under systemd) every call is a no-op.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable, Mapping

import attrs
import trio

log = logging.getLogger("tradingd.notify")


class Notifier:
    """One unbound datagram socket; a send never blocks (a full queue drops the line)."""

    def __init__(self, address: str | None) -> None:
        self._address: str | bytes | None = None
        self._socket: socket.socket | None = None
        if address:
            # A leading '@' names a socket in the abstract namespace (a leading NUL byte).
            self._address = b"\0" + address[1:].encode() if address.startswith("@") else address
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.setblocking(False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Notifier:
        return cls(environ.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, *lines: str) -> None:
        """Send ``READY=1``-style lines as one datagram."""
        if self._socket is None or self._address is None:
            return
        try:
            self._socket.sendto("\n".join(lines).encode(), self._address)
        except OSError as exc:
            # systemd gone or its queue full: the service keeps running; a missed ping shows.
            log.warning("sd_notify failed: %s", exc.strerror or exc)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def watchdog_seconds(environ: Mapping[str, str], pid: int) -> float | None:
    """``WatchdogSec=`` as systemd passes it (``WATCHDOG_USEC``), if meant for this process."""
    if environ.get("WATCHDOG_PID", str(pid)) != str(pid):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


@attrs.define
class StallDetector:
    """Which actor inboxes have held work without shrinking for ``stall_after`` seconds.

    An actor that takes messages off its inbox makes the backlog shrink or empty out; one
    stuck in a call keeps it at or above where it was. A constant backlog under a steady load
    looks the same, so ``stall_after`` is generous (the watchdog's whole interval).
    """

    stall_after: float
    _since: dict[str, tuple[float, int]] = attrs.field(factory=dict)

    def observe(self, now: float, backlogs: Mapping[str, int]) -> list[str]:
        """Record each inbox's backlog at ``now``; return the stuck ones, sorted."""
        stuck = []
        for name, used in sorted(backlogs.items()):
            if used == 0:
                self._since.pop(name, None)
                continue
            since, last = self._since.get(name, (now, used))
            if used < last:
                since = now  # it took work off its inbox: progress
            self._since[name] = (since, used)
            if now - since >= self.stall_after:
                stuck.append(name)
        return stuck


Probe = Callable[[], Awaitable[None]]


async def run_watchdog(
    notifier: Notifier,
    interval: float,
    backlogs: Callable[[], Mapping[str, int]],
    probe: Probe,
) -> None:
    """Ping every ``interval / 2`` while the probe completes in time and no inbox is stuck.

    A ping missed is the point: systemd then kills and restarts the daemon, and startup
    reconciliation makes the restart safe.
    """
    period = interval / 2
    detector = StallDetector(stall_after=interval)
    while True:
        problem = None
        with trio.move_on_after(period) as probing:
            await probe()
        if probing.cancelled_caught:
            problem = "the journal did not commit within the watchdog period"
        stuck = detector.observe(trio.current_time(), backlogs())
        if stuck:
            problem = f"no progress in {', '.join(stuck)}"
        if problem is None:
            notifier.notify("WATCHDOG=1")
        else:
            log.error("watchdog: %s; withholding the ping", problem)
            notifier.notify(f"STATUS=stalled: {problem}")
        await trio.sleep(period)
