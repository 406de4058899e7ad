"""OrderMonitor: the broker's order stream, routed to whoever owns each order."""

from actors.monitor.core import (
    LookupDone,
    MonitorInput,
    MonitorTimers,
    OrderMonitorCore,
    StreamDown,
    StreamUp,
    Watch,
)
from actors.monitor.task import (
    MonitorHandle,
    MonitorInbox,
    Subscribers,
    open_monitor_inbox,
    start_order_monitor,
)

__all__ = [
    "LookupDone",
    "MonitorHandle",
    "MonitorInbox",
    "MonitorInput",
    "MonitorTimers",
    "OrderMonitorCore",
    "StreamDown",
    "StreamUp",
    "Subscribers",
    "Watch",
    "open_monitor_inbox",
    "start_order_monitor",
]
