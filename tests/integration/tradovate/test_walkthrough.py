"""The #15 walkthrough: a client written from the Tradovate digest alone (httpx and
websockets only) logs in, finds MNQ1!'s front contract, trades a market order and an OSO
bracket, follows every entity event on the user socket, reads the money back to the cent
and receives quotes. The venue is the edge of the world: started, priced and clocked
through its ``/_sim`` controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trio

from brokers.sim import SimConfig
from brokers.sim.control import SimControl, running_sim
from tests.integration.tradovate.digest_client import (
    SAMPLE_LOGIN,
    WAIT,
    TradovateSocket,
    entity_events,
    open_socket,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import attrs

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
            answer: JSON = (await self.http.post("/auth/accesstokenrequest", json=SAMPLE_LOGIN)).json()
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
    expires = datetime.fromisoformat(login["expirationTime"].replace("Z", "+00:00"))
    # Login happened a moment after START (the servers' start-up takes some venue time).
    assert timedelta(minutes=90) <= expires - START < timedelta(minutes=91)
    await trio.sleep(60 * 60)
    renewed = await world.get("/auth/renewaccesstoken")
    assert renewed["userId"] == login["userId"]
    assert datetime.fromisoformat(renewed["expirationTime"].replace("Z", "+00:00")) > expires
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
