"""The #15 walkthrough: a client written from the Tradovate digest alone (httpx and
websockets only) logs in, finds MNQ1!'s front contract, trades a market order and an OSO
bracket, follows every entity event on the user socket, reads the money back to the cent
and receives quotes. The venue is the edge of the world: started, priced and clocked
through its ``/_sim`` controls."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import trio

from brokers.sim import SimConfig
from brokers.sim.control import SimControl, running_sim
from tests.integration.tradovate.digest_client import (
    SAMPLE_LOGIN,
    WAIT,
    entity_events,
    open_socket,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


JSON = dict[str, Any]
# A Thursday, 09:00 in Chicago: Globex is open; MNQ's front is the December 2026 contract.
START = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
MNQ_POINT = Decimal(2)


class World:
    """The venue's URLs, its controls and a logged-in REST client."""

    def __init__(self, rest_url: str, ws_url: str, md_url: str, control: SimControl) -> None:
        self.rest_url, self.ws_url, self.md_url, self.control = rest_url, ws_url, md_url, control
        # No client timeout: under the autojump clock it would fire whenever all is idle;
        # every wait is bounded by trio.fail_after instead.
        self.http = httpx.AsyncClient(base_url=rest_url, timeout=None)
        self.login: JSON = {}

    async def log_in(self) -> JSON:
        with trio.fail_after(WAIT):
            answer: JSON = (
                await self.http.post("/auth/accesstokenrequest", json=SAMPLE_LOGIN)
            ).json()
        self.http.headers["Authorization"] = f"Bearer {answer['accessToken']}"
        self.login = answer
        return answer

    async def get(self, path: str, **params: Any) -> Any:
        with trio.fail_after(WAIT):
            response = await self.http.get(path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    async def post(self, path: str, body: Any) -> Any:
        with trio.fail_after(WAIT):
            response = await self.http.post(path, json=body)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    async def fault(self, name: str, **params: Any) -> None:
        await self.control.fault(name, front="tradovate", **params)


@asynccontextmanager
async def open_world() -> AsyncIterator[World]:
    """A venue whose Tradovate login is trader/secret, 30 s client-silence limit. Opened
    inside the test's own task: a venue served from a fixture's task left the autojump
    clock stuck once a login had kept a connection alive."""
    config = SimConfig(
        start_time=START,
        tradovate_username="trader",
        tradovate_password="secret",
        ws_client_timeout=30.0,
    )
    async with running_sim(config) as endpoints, SimControl(endpoints) as control:
        world = World(
            endpoints.tradovate_url, endpoints.tradovate_ws_url, endpoints.tradovate_md_url, control
        )
        async with world.http:
            yield world


async def front_contract(world: World) -> JSON:
    """MNQ1! both ways the digest gives (§2); they must agree."""
    product = await world.get("/product/find", name="MNQ")
    maturities = await world.get("/contractMaturity/deps", masterid=product["id"])
    (front,) = [m for m in maturities if m["isFront"]]
    (contract,) = await world.get("/contract/deps", masterid=front["id"])
    rolled = await world.post("/contract/rollcontract", {"name": "MNQ", "forward": True})
    assert rolled["contract"] == contract
    not_expired = await world.post(
        "/contract/rollcontract", {"name": contract["name"], "forward": True, "ifExpired": True}
    )
    assert not_expired["contract"] == contract
    return dict(contract)


async def the_account(world: World) -> JSON:
    (account,) = await world.get("/account/list")
    return dict(account)


def order_body(account: JSON, contract: JSON, action: str = "Buy", **extra: Any) -> JSON:
    return {
        "accountSpec": account["name"],
        "accountId": account["id"],
        "action": action,
        "symbol": contract["name"],
        "orderQty": 1,
        "orderType": "Market",
        "isAutomated": True,
        **extra,
    }


async def test_login_renew_me_and_the_front_contract(autojump_clock: object) -> None:
    """The sample login answers the digest's fields; renewal keeps the session; auth/me;
    MNQ1! is MNQZ6 by rollcontract and by product, maturities and isFront alike."""
    async with open_world() as world:
        await login_renew_and_find(world)


async def login_renew_and_find(world: World) -> None:
    login = await world.log_in()
    for field in ("accessToken", "mdAccessToken", "expirationTime", "userId", "name"):
        assert login[field], field
    assert login["userStatus"] == "Active"
    expires = datetime.fromisoformat(login["expirationTime"])
    # Login happened a moment after START (the servers' start-up takes some venue time).
    assert timedelta(minutes=90) <= expires - START < timedelta(minutes=91)
    await trio.sleep(60 * 60)
    renewed = await world.get("/auth/renewaccesstoken")
    assert renewed["userId"] == login["userId"]
    assert datetime.fromisoformat(renewed["expirationTime"]) > expires
    world.http.headers["Authorization"] = f"Bearer {renewed['accessToken']}"
    me = await world.get("/auth/me")
    assert (me["userId"], me["name"]) == (login["userId"], login["name"])
    contract = await front_contract(world)
    assert contract["name"] == "MNQZ6"
    product = await world.get("/product/find", name="MNQ")
    assert (Decimal(str(product["valuePerPoint"])), Decimal(str(product["tickSize"]))) == (
        MNQ_POINT,
        Decimal("0.25"),
    )


def price(value: Any) -> Decimal:
    return Decimal(str(value))


async def test_market_order_and_oso_bracket_on_the_sockets_and_the_money(
    autojump_clock: object,
) -> None:
    """A market buy and an OSO entry stream every entity event in the digest's §7 order;
    the brackets work once the entry fills; the take-profit moves (qty and type sent);
    liquidate closes exactly 2 contracts; REST reads and the cash balance match by hand;
    quotes follow a price move."""
    async with open_world() as world, trio.open_nursery() as nursery:
        login = await world.log_in()
        contract = await front_contract(world)
        account = await the_account(world)
        await world.control.set_prices({"MNQ1!": "21000.00"})
        before = await world.post(
            "/cashBalance/getcashbalancesnapshot", {"accountId": account["id"]}
        )
        async with open_socket(world.ws_url) as user, open_socket(world.md_url) as md:
            nursery.start_soon(user.heartbeats)
            nursery.start_soon(md.heartbeats)
            assert await user.authorize(login["accessToken"]) == {"s": 200, "i": 0}
            sync = await user.request("user/syncrequest", {"users": [login["userId"]]})
            assert sync["s"] == 200
            assert [a["id"] for a in sync["d"]["accounts"]] == [account["id"]]
            (cash,) = sync["d"]["cashBalances"]
            assert cash["accountId"] == account["id"]
            assert await md.authorize(login["mdAccessToken"]) == {"s": 200, "i": 0}
            assert (await md.request("md/subscribeQuote", {"symbol": contract["name"]}))["s"] == 200

            placed = await world.post(
                "/order/placeorder", order_body(account, contract, clOrdId="e2e-1")
            )
            market_id = placed["orderId"]
            await user.props_until(lambda p: ("cashBalance", "Updated") in entity_events(p))
            assert entity_events(user.props()) == [
                ("order", "Created"),
                ("command", "Created"),
                ("orderVersion", "Created"),
                ("commandReport", "Created"),
                ("command", "Updated"),
                ("executionReport", "Created"),
                ("executionReport", "Created"),
                ("fill", "Created"),
                ("order", "Updated"),
                ("position", "Created"),  # the account's first position in the contract
                ("cashBalance", "Updated"),
            ], user.props()
            first = user.props()
            assert first[0]["entity"]["ordStatus"] == "PendingNew"
            assert first[1]["entity"]["clOrdId"] == "e2e-1"
            assert (
                first[2]["entity"]["id"] == first[1]["entity"]["id"]
            )  # orderVersion.id == command.id
            assert [e["entity"]["execType"] for e in first[5:7]] == ["New", "Trade"]
            assert first[6]["entity"]["ordStatus"] == "Filled"
            assert price(first[7]["entity"]["price"]) == Decimal("21000.00")
            assert first[8]["entity"]["ordStatus"] == "Filled"
            assert first[9]["entity"]["netPos"] == 1
            assert first[10]["entity"]["id"] == cash["id"]
            user.events.clear()

            oso = order_body(
                account,
                contract,
                bracket1={"action": "Sell", "orderType": "Limit", "price": 21020.00},
                bracket2={"action": "Sell", "orderType": "Stop", "stopPrice": 20990.00},
            )
            placed = await world.post("/order/placeoso", oso)
            entry_id, tp_id, sl_id = placed["orderId"], placed["oso1Id"], placed["oso2Id"]
            await user.props_until(lambda p: ("cashBalance", "Updated") in entity_events(p))
            orders = {
                e["entity"]["id"]: e["entity"] for e in user.props() if e["entityType"] == "order"
            }
            assert {tp_id, sl_id, entry_id} <= set(orders)
            tp, sl = (
                await world.get("/order/item", id=tp_id),
                await world.get("/order/item", id=sl_id),
            )
            # Digest §7: once the entry has filled, both brackets are Working.
            assert (tp["ordStatus"], sl["ordStatus"]) == ("Working", "Working")
            assert (tp["parentId"], sl["parentId"]) == (entry_id, entry_id)
            assert (tp["linkedId"], sl["linkedId"]) == (sl_id, tp_id)
            user.events.clear()

            with trio.fail_after(WAIT):
                refused = await world.http.post(
                    "/order/modifyorder", json={"orderId": tp_id, "price": 21015.00}
                )
            assert "orderQty" in refused.json()["errorText"]  # qty and type are required
            moved = await world.post(
                "/order/modifyorder",
                {
                    "orderId": tp_id,
                    "orderQty": 1,
                    "orderType": "Limit",
                    "price": 21015.00,
                    "isAutomated": True,
                },
            )
            command_id = moved["commandId"]
            await user.props_until(lambda p: ("commandReport", "Created") in entity_events(p))
            modify = user.props()
            assert [(e["entityType"], e["entity"]["id"]) for e in modify[:2]] == [
                ("command", command_id),
                ("orderVersion", command_id),
            ]
            assert modify[0]["entity"]["commandType"] == "Modify"
            versions = await world.get("/orderVersion/deps", masterid=tp_id)
            assert price(max(versions, key=lambda v: v["id"])["price"]) == Decimal("21015.00")
            assert (await world.get("/order/item", id=tp_id))["id"] == tp_id  # kept its id

            await world.control.set_prices({"MNQ1!": "21010.25"})

            def quotes() -> list[JSON]:
                return [q for e in md.events if e["e"] == "md" for q in e["d"]["quotes"]]

            with trio.fail_after(WAIT):
                while not any(price(q["entries"]["Trade"]["price"]) > 21000 for q in quotes()):
                    await md.read_frame()
            quote = quotes()[-1]
            assert quote["contractId"] == contract["id"]
            assert price(quote["entries"]["Trade"]["price"]) == Decimal("21010.25")
            assert price(quote["entries"]["Bid"]["price"]) < price(
                quote["entries"]["Offer"]["price"]
            )

            user.events.clear()
            liquidated = await world.post(
                "/order/liquidateposition",
                {
                    "accountId": account["id"],
                    "contractId": contract["id"],
                    "admin": False,
                    "isAutomated": True,
                },
            )
            assert "orderId" in liquidated, liquidated
            await user.props_until(
                lambda p: any(
                    e["entityType"] == "position" and e["entity"]["netPos"] == 0 for e in p
                )
            )
            for bracket in (tp_id, sl_id):
                assert (await world.get("/order/item", id=bracket))["ordStatus"] == "Canceled"
            nursery.cancel_scope.cancel()

        (position,) = await world.get("/position/deps", masterid=account["id"])
        assert (position["netPos"], position["bought"], position["sold"]) == (0, 2, 2)
        fills = await world.get("/fill/list")
        buys = [price(f["price"]) for f in fills if f["action"] == "Buy"]
        sells = [(price(f["price"]), f["qty"]) for f in fills if f["action"] == "Sell"]
        assert sorted(buys) == [Decimal("21000.00")] * 2
        assert sells == [(Decimal("21010.25"), 2)]
        # By hand: 2 contracts x 10.25 points x $2 = $41.00, nothing open.
        after = await world.post(
            "/cashBalance/getcashbalancesnapshot", {"accountId": account["id"]}
        )
        assert price(after["realizedPnL"]) == Decimal("41.00")
        assert price(after["openPnL"]) == 0
        assert price(after["totalCashValue"]) == price(before["totalCashValue"]) + Decimal("41.00")
        assert price(after["netLiq"]) == price(before["netLiq"]) + Decimal("41.00")
        assert price(after["initialMargin"]) == 0
        assert market_id in {f["orderId"] for f in fills}
