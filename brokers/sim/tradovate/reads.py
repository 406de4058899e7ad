"""The Tradovate front's read endpoints: accounts, money, contracts and products, the
contract roll, and ``list`` / ``item`` / ``items`` / ``deps`` / ``ldeps`` of the entities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

from brokers.sim.core.contracts import PRODUCTS, FuturesContract, front_contract, parse_contract
from brokers.sim.core.globex import trading_date as trading_day
from brokers.sim.tradovate.changes import EntityType
from brokers.sim.tradovate.entities import MASTERS
from brokers.sim.tradovate.requests import CashBalanceSnapshot, RollContract, read
from brokers.sim.tradovate.wire import (
    cash_balance_json,
    contract_json,
    listed,
    maturity_json,
    product_json,
    timestamp,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brokers.sim.tradovate.front import TradovateFront

Answer = tuple[int, Any]
ENTITY_TYPES: frozenset[str] = frozenset(get_args(EntityType))
# The endpoints ``answer`` knows by name (the entity reads are ENTITY_READS).
NAMED_READS = (
    "account/list",
    "account/item",
    "account/find",
    "cashBalance/getcashbalancesnapshot",
    "contract/find",
    "contract/item",
    "contract/items",
    "contract/suggest",
    "contract/deps",
    "contract/rollcontract",
    "product/find",
    "product/item",
    "contractMaturity/deps",
    "contractMaturity/item",
)
ENTITY_READS = tuple(
    f"{entity}/{operation}"
    for entity in sorted(ENTITY_TYPES & set(MASTERS))
    for operation in ("list", "item", "items", "deps", "ldeps")
)


def not_found(endpoint: str) -> Answer:
    # As Tradovate answers an unknown operation over its websocket (digest §5).
    return 404, f"Not found: {endpoint}"


def answer(front: TradovateFront, endpoint: str, query: Mapping[str, str], body: Any) -> Answer:
    now = front.clock()
    match endpoint:
        case "account/list":
            return 200, [account_json(front)]
        case "account/item" | "account/find":
            wanted = query.get("id") or query.get("name")
            if wanted in (str(front.account_id), front.account_name):
                return 200, account_json(front)
            return 404, None
        case "cashBalance/getcashbalancesnapshot":
            request = read(body, CashBalanceSnapshot)
            if request.account_id != front.account_id:
                return 200, {"errorText": "Access is denied"}
            return 200, cash_balance_json(front)
        case "contract/find":
            contract = _contract_named(front, query.get("name", ""))
            return (200, contract_json(contract, now)) if contract else (404, None)
        case "contract/item":
            contract = _contract_by_id(front, query.get("id", ""))
            return (200, contract_json(contract, now)) if contract else (404, None)
        case "contract/items":
            ids = _ids(query.get("ids", ""))
            return 200, [contract_json(c, now) for c in listed(front) if c.id in ids]
        case "contract/suggest":
            text = query.get("t", "").upper()
            limit = _int(query.get("l", "10")) or 10
            found = [c for c in listed(front) if c.name.startswith(text)]
            return 200, [contract_json(c, now) for c in found[:limit]]
        case "contract/deps":
            ids = _ids(query.get("masterid", ""))
            return 200, [contract_json(c, now) for c in listed(front) if c.maturity_id in ids]
        case "contract/rollcontract":
            return _roll(front, read(body, RollContract))
        case "product/find":
            product = PRODUCTS.get(query.get("name", "").upper())
            return (200, product_json(product, now)) if product else (404, None)
        case "product/item":
            product_id = _int(query.get("id", ""))
            product = next((p for p in PRODUCTS.values() if p.id == product_id), None)
            return (200, product_json(product, now)) if product else (404, None)
        case "contractMaturity/deps":
            ids = _ids(query.get("masterid", ""))
            return 200, [maturity_json(c, now) for c in listed(front) if c.product.id in ids]
        case "contractMaturity/item":
            maturity_id = _int(query.get("id", ""))
            maturity = next((c for c in listed(front) if c.maturity_id == maturity_id), None)
            return (200, maturity_json(maturity, now)) if maturity else (404, None)
    return _entity_read(front, endpoint, query)


def _entity_read(front: TradovateFront, endpoint: str, query: Mapping[str, str]) -> Answer:
    entity_name, _, operation = endpoint.partition("/")
    if entity_name not in ENTITY_TYPES or entity_name not in MASTERS:
        return not_found(endpoint)
    entity_type: EntityType = entity_name
    store = front.entities
    match operation:
        case "list":
            return 200, store.all(entity_type)
        case "item":
            item = store.item(entity_type, _int(query.get("id", "")) or 0)
            return (200, item) if item is not None else (404, None)
        case "items":
            ids = _ids(query.get("ids", ""))
            return 200, [e for e in store.all(entity_type) if e["id"] in ids]
        case "deps":
            return 200, store.deps(entity_type, _ids(query.get("masterid", "")))
        case "ldeps":
            return 200, store.deps(entity_type, _ids(query.get("masterids", "")))
    return not_found(endpoint)


def account_json(front: TradovateFront) -> dict[str, Any]:
    return {
        "id": front.account_id,
        "name": front.account_name,
        "userId": front.user_id,
        "accountType": "Customer",
        "active": True,
        "clearingHouseId": 1,
        "riskCategoryId": 1,
        "autoLiqProfileId": 1,
        "marginAccountType": "Speculator",
        "legalStatus": "Individual",
        "archived": False,
        "restricted": False,
        "closed": False,
        "timestamp": timestamp(front.created_at),
    }


def _roll(front: TradovateFront, request: RollContract) -> Answer:
    """The contract after (``forward``) or before ``name``. A product root (``MNQ``)
    rolls from its front contract: done by one community client, unconfirmed."""
    day = trading_day(front.clock())
    product = PRODUCTS.get(request.name.upper())
    if product is not None:
        rolled = front_contract(product, day)
    else:
        current = parse_contract(request.name, day)
        if current is None:
            return 200, {"errorText": f"Contract {request.name} not found"}
        expired = current.is_expired(day)
        if request.if_expired and not expired:
            rolled = current
        else:
            rolled = current.next() if request.forward else current.previous()
    return 200, {"contract": contract_json(rolled, front.clock())}


def _contract_named(front: TradovateFront, name: str) -> FuturesContract | None:
    return next((c for c in listed(front) if c.name == name.upper()), None)


def _contract_by_id(front: TradovateFront, text: str) -> FuturesContract | None:
    wanted = _int(text)
    return next((c for c in listed(front) if c.id == wanted), None)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _ids(text: str) -> set[int]:
    return {n for part in text.split(",") if (n := _int(part.strip())) is not None}
