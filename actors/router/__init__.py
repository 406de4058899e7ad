"""The SignalRouter: every source's signals pass here (``Intake``), deduped and handed to
their symbol's executor; its decisions are in ``core``, its loop in ``task``."""

from actors.router.core import SignalRouterCore
from actors.router.task import (
    Arrival,
    Intake,
    RouterHandle,
    run_signal_router,
    start_signal_router,
)

__all__ = [
    "Arrival",
    "Intake",
    "RouterHandle",
    "SignalRouterCore",
    "run_signal_router",
    "start_signal_router",
]
