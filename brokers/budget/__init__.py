"""A venue's request budget, shared by every REST call to it (``core`` pure, ``pacer`` trio)."""

from __future__ import annotations

from brokers.budget.core import Allowance, Correction, Pause, Remaining, RequestBudget
from brokers.budget.pacer import Slot, VenueBudget

__all__ = ["Allowance", "Correction", "Pause", "Remaining", "RequestBudget", "Slot", "VenueBudget"]
