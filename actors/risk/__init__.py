"""RiskGuard: every order is checked against the limits before it leaves."""

from actors.messages import RiskInput
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from actors.risk.task import (
    RiskHandle,
    read_clock,
    start_risk_guard,
)

__all__ = [
    "RiskGuardCore",
    "RiskHandle",
    "RiskInput",
    "RiskLimits",
    "read_clock",
    "start_risk_guard",
]
