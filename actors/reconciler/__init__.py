"""Reconciler: the daemon's picture of positions must equal the broker's."""

from actors.reconciler.core import (
    RESEND_WINDOW,
    Drift,
    DriftWatch,
    PendingFlip,
    PendingIntent,
    StartupState,
    compare_positions,
)
from actors.reconciler.core_corrections import CorrectionBook
from actors.reconciler.core_in_flight import WorkingOrder
from actors.reconciler.core_order_diff import LiveOrder
from actors.reconciler.core_startup_fills import (
    JournalOrder,
    JournalPosition,
    VenueProgress,
    missed_fills,
)
from actors.reconciler.correction_apply import ApprovalResult
from actors.reconciler.drift_checks import ReconciliationReport, StartupDrifts
from actors.reconciler.open_orders import list_open_orders, list_orders_paged
from actors.reconciler.startup_reads import load_startup_state
from actors.reconciler.task import ReconcilerHandle, start_reconciler
from actors.reconciler.venue_view import ExecutorsView, FreshPrices, ReconcilerDeps, VenueView

__all__ = [
    "RESEND_WINDOW",
    "ApprovalResult",
    "CorrectionBook",
    "Drift",
    "DriftWatch",
    "ExecutorsView",
    "FreshPrices",
    "JournalOrder",
    "JournalPosition",
    "LiveOrder",
    "PendingFlip",
    "PendingIntent",
    "ReconcilerDeps",
    "ReconcilerHandle",
    "ReconciliationReport",
    "StartupDrifts",
    "StartupState",
    "VenueProgress",
    "VenueView",
    "WorkingOrder",
    "compare_positions",
    "list_open_orders",
    "list_orders_paged",
    "load_startup_state",
    "missed_fills",
    "start_reconciler",
]
