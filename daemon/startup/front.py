"""What the sources, the control socket and systemd see of a daemon still starting.

The intake opens with the journal, before the startup gate; the daemon's views only once
the gate has passed. Meanwhile ``tradingd status`` and systemd's ``STATUS=`` say what the
gate waits for, and every wait pushes systemd's start timeout further out
(``EXTEND_TIMEOUT_USEC=``), so a venue in trouble is waited out, not restarted into.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import attrs
import trio

if TYPE_CHECKING:
    from collections.abc import Callable

    from actors.retry import BrokerWait
    from actors.router import Intake
    from daemon.notify import Notifier
    from daemon.supervisor import Daemon

# Beyond each wait: the next attempt's own time (the adapter's 10 s timeout) and slack.
EXTEND_MARGIN = 30.0
RECENT_WAITS = 64


@attrs.define
class Front:
    """The daemon as the outside world reaches it, from before the gate to the end."""

    notifier: Notifier | None = None
    intake: Intake | None = None
    daemon: Daemon | None = None
    waiting: BrokerWait | None = None
    # The latest waits, oldest first (bounded: a venue may stay away for days).
    recent_waits: deque[BrokerWait] = attrs.field(factory=lambda: deque(maxlen=RECENT_WAITS))
    _held_count: Callable[[], int] = lambda: 0
    _opened: trio.Event = attrs.field(factory=trio.Event)
    _ready: trio.Event = attrs.field(factory=trio.Event)

    @classmethod
    def serving(cls, daemon: Daemon) -> Front:
        """A front for a daemon already past its gate (signals go straight to its router)."""
        front = cls()
        front.open(daemon.intake, lambda: 0)
        front.ready(daemon)
        return front

    def open(self, intake: Intake, held_count: Callable[[], int]) -> None:
        """Signals may come in now (they are held until the gate passes)."""
        self.intake = intake
        self._held_count = held_count
        self._opened.set()
        self._tell("STATUS=starting: reading the venue's account, positions and orders")

    def on_wait(self, wait: BrokerWait) -> None:
        """The gate waits for the venue: say so, and keep systemd from timing the start out."""
        self.waiting = wait
        self.recent_waits.append(wait)
        extend_usec = int((wait.delay + EXTEND_MARGIN) * 1_000_000)
        self._tell(f"STATUS={wait.describe()}", f"EXTEND_TIMEOUT_USEC={extend_usec}")

    def ready(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.waiting = None
        self._ready.set()

    async def wait_open(self) -> Intake:
        await self._opened.wait()
        assert self.intake is not None
        return self.intake

    async def wait_ready(self) -> Daemon:
        await self._ready.wait()
        assert self.daemon is not None
        return self.daemon

    def waiting_for(self) -> str:
        if self.waiting is not None:
            return self.waiting.describe()
        if self.intake is None:
            return "opening the journal"
        return "the startup gate: reading the venue's account, positions and orders"

    def starting_status(self) -> dict[str, Any]:
        """``tradingd status`` before the gate has passed."""
        return {
            "ready": False,
            "waiting_for": self.waiting_for(),
            "attempt": None if self.waiting is None else self.waiting.attempt,
            "held_signals": self._held_count(),
        }

    def _tell(self, *lines: str) -> None:
        if self.notifier is not None:
            self.notifier.notify(*lines)
