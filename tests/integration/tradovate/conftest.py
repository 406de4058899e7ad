"""Fixtures of the Tradovate front's tests: a venue served on loopback (its handle kept, to
listen on its entity changes), a logged-in httpx client under ``/v1``, the websockets' URLs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest
import trio

from brokers.sim import SimConfig
from brokers.sim.server import TRADOVATE_MD_PATH, TRADOVATE_WS_PATH, serve_venue
from brokers.sim.venue import SimVenue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from brokers.sim.config import SimEndpoints
    from brokers.sim.tradovate.front import TradovateFront

# A Thursday afternoon, Chicago time: the market is open.
START = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
LOGIN = {"name": "trader", "password": "secret", "appId": "tests", "cid": 8, "sec": "s"}


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(start_time=START, tradovate_username="trader", tradovate_password="secret")


@pytest.fixture
async def served(
    sim_config: SimConfig, autojump_clock: object
) -> AsyncIterator[tuple[SimVenue, SimEndpoints]]:
    """Time only through the autojump clock: the venue's clock starts at START exactly."""
    venue = SimVenue.from_config(sim_config)
    async with trio.open_nursery() as nursery:
        endpoints = await nursery.start(serve_venue, venue, sim_config)
        yield venue, endpoints
        nursery.cancel_scope.cancel()


@attrs.frozen
class TradovateVenue:
    venue: SimVenue
    rest_url: str
    ws_url: str
    md_url: str

    @property
    def front(self) -> TradovateFront:
        return self.venue.tradovate


@pytest.fixture
async def tradovate(sim_config: SimConfig) -> AsyncIterator[TradovateVenue]:
    """The venue and its Tradovate URLs (the caller picks the clock)."""
    venue = SimVenue.from_config(sim_config)
    async with trio.open_nursery() as nursery:
        endpoints = await nursery.start(serve_venue, venue, sim_config)
        streams = endpoints.stream_url.removesuffix("/stream")
        yield TradovateVenue(
            venue,
            endpoints.alpaca_url,
            streams + TRADOVATE_WS_PATH,
            streams + TRADOVATE_MD_PATH,
        )
        nursery.cancel_scope.cancel()


def issue_tokens(front: TradovateFront) -> tuple[str, str]:
    """A fresh (accessToken, mdAccessToken) pair: a new session of the front's user, as a
    login would open it."""
    issued = front.tokens.open_session(front.user_id, front.clock())
    front.publish_revoked()
    return issued.access_token, issued.md_access_token


def revoke_tokens(front: TradovateFront) -> None:
    """Every token stops working and its sockets close, as the ``revoke_tokens`` fault does."""
    front.tokens.revoke_all()
    front.publish_revoked()


@pytest.fixture
async def anonymous(
    served: tuple[SimVenue, SimEndpoints],
) -> AsyncIterator[httpx.AsyncClient]:
    # No client timeout: under the autojump clock a timeout would fire as soon as all idle.
    base = served[1].alpaca_url + "/v1"
    async with httpx.AsyncClient(base_url=base, timeout=None) as client:
        yield client


@pytest.fixture
async def client(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    """Logged in: every request carries the access token."""
    answer = (await anonymous.post("/auth/accesstokenrequest", json=LOGIN)).json()
    anonymous.headers["Authorization"] = f"Bearer {answer['accessToken']}"
    return anonymous


async def fault(served: tuple[SimVenue, SimEndpoints], name: str, **params: Any) -> None:
    async with httpx.AsyncClient() as control:
        response = await control.post(
            f"{served[1].alpaca_url}/_sim/faults",
            json={"fault": name, "front": "tradovate", **params},
        )
        response.raise_for_status()


async def account(client: httpx.AsyncClient) -> dict[str, Any]:
    accounts: list[dict[str, Any]] = (await client.get("/account/list")).json()
    return accounts[0]


async def front_contract(client: httpx.AsyncClient) -> dict[str, Any]:
    rolled = await client.post("/contract/rollcontract", json={"name": "MNQ", "forward": True})
    contract: dict[str, Any] = rolled.json()["contract"]
    return contract


async def market_order(client: httpx.AsyncClient, action: str = "Buy", **extra: Any) -> Any:
    acct = await account(client)
    contract = await front_contract(client)
    body = {
        "accountSpec": acct["name"],
        "accountId": acct["id"],
        "action": action,
        "symbol": contract["name"],
        "orderQty": 1,
        "orderType": "Market",
        "isAutomated": True,
        **extra,
    }
    return (await client.post("/order/placeorder", json=body)).json()
