"""The SyncMessage of ``user/syncrequest``: every entity list by its Tradovate name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brokers.sim.core.contracts import PRODUCTS
from brokers.sim.tradovate.reads import account_json, user_json
from brokers.sim.tradovate.strategies import MULTIBRACKET
from brokers.sim.tradovate.wire import contract_json, listed, product_json

if TYPE_CHECKING:
    from brokers.sim.tradovate.front import TradovateFront


def snapshot(front: TradovateFront) -> dict[str, list[dict[str, Any]]]:
    now = front.clock()
    store = front.entities
    return {
        "users": [user_json(front)],
        "accounts": [account_json(front)],
        "accountRiskStatuses": [],
        "marginSnapshots": [],
        "userAccountAutoLiqs": [],
        "cashBalances": store.all("cashBalance"),
        "currencies": [{"id": 1, "name": "USD", "symbol": "$"}],
        "positions": store.all("position"),
        "fillPairs": [],
        "orders": store.all("order"),
        "contracts": [contract_json(c, now) for c in listed(front)],
        "contractMaturities": [],
        "products": [product_json(p, now) for p in PRODUCTS.values()],
        "exchanges": [{"id": 1, "name": "CME"}],
        "spreadDefinitions": [],
        "commands": store.all("command"),
        "commandReports": store.all("commandReport"),
        "executionReports": store.all("executionReport"),
        "orderVersions": store.all("orderVersion"),
        "fills": store.all("fill"),
        "orderStrategies": store.all("orderStrategy"),
        "orderStrategyLinks": store.all("orderStrategyLink"),
        "orderStrategyTypes": [
            {
                "id": MULTIBRACKET,
                "name": "multibracket",
                "enabled": not front.rest_faults.strategy_disabled,
            }
        ],
        "contractGroups": [{"id": 1, "name": "Equity Index"}],
    }
