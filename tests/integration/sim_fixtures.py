"""Helpers shared by the paper venue's integration tests: credentials, an order body, the
prices, and a ``trade_updates`` listener. The fixtures are in ``conftest.py``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from websockets.trio.client import ClientConnection

AUTH = {"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": "secret"}
MARKET = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
PRICES = {"AAPL": Decimal("100.00"), "MSFT": Decimal("400.00")}


async def open_listener(ws: ClientConnection) -> None:
    """Authenticate and listen to ``trade_updates``."""
    await ws.send(json.dumps({"action": "auth", "key": "key", "secret": "secret"}))
    await ws.recv()
    await ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
    await ws.recv()


async def event(ws: ClientConnection) -> dict[str, Any]:
    """The next ``trade_updates`` event's data."""
    message: dict[str, dict[str, Any]] = json.loads(await ws.recv())
    return message["data"]
