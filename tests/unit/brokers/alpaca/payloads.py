"""Alpaca wire payloads as Alpaca documents them, for the adapter's mapping, client and
stream tests."""

from __future__ import annotations

from typing import Any


def order_payload(**overrides: Any) -> dict[str, Any]:
    """A REST Order as Alpaca documents it (alpaca-py's test payloads have this shape)."""
    payload: dict[str, Any] = {
        "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
        "client_order_id": "td-1-entry",
        "created_at": "2021-03-16T18:38:01.942282Z",
        "updated_at": "2021-03-16T18:38:01.942282Z",
        "submitted_at": "2021-03-16T18:38:01.937734Z",
        "filled_at": None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
        "symbol": "AAPL",
        "asset_class": "us_equity",
        "notional": None,
        "qty": "10",
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "",
        "order_type": "market",
        "type": "market",
        "side": "buy",
        "time_in_force": "day",
        "limit_price": None,
        "stop_price": None,
        "status": "accepted",
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "position_intent": "buy_to_open",
    }
    payload.update(overrides)
    return payload


def trade_update_payload(event: str, order: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A ``trade_updates`` stream message around ``order``."""
    data = {"event": event, "order": order, "timestamp": "2021-03-16T18:38:02.022453Z"}
    data.update(fields)
    return {"stream": "trade_updates", "data": data}
