"""RiskGuard: every order is checked against the limits before it leaves."""

from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from actors.risk.task import (
    Halt,
    Resume,
    RiskHandle,
    RiskInput,
    SetLimits,
    read_clock,
    start_risk_guard,
)

__all__ = [
    "Halt",
    "Resume",
    "RiskGuardCore",
    "RiskHandle",
    "RiskInput",
    "RiskLimits",
    "SetLimits",
    "read_clock",
    "start_risk_guard",
]
