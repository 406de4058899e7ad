"""The summary line of ``tradingd run --once``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from actors.messages import Summary

if TYPE_CHECKING:
    from daemon.supervisor import Daemon


async def build_summary(daemon: Daemon) -> Summary:
    orders: list[dict[str, Any]] = [
        msgspec.to_builtins(row) for row in await daemon.journal.orders()
    ]
    return Summary(positions=daemon.positions(), orders=orders, unresolved=daemon.unresolved())
