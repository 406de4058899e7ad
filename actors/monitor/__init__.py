"""OrderMonitor: the broker's order stream, routed to whoever owns each order."""

from actors.messages import LookupEnded, MonitorInput, StreamDown, StreamUp, Watch
from actors.monitor.core import MonitorTimers, OrderMonitorCore
from actors.monitor.task import (
    MonitorHandle,
    MonitorInbox,
    Subscribers,
    open_monitor_inbox,
    start_order_monitor,
)

__all__ = [
    "LookupEnded",
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
