"""Orders, entities and faults of the Tradovate REST front over loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.integration.tradovate.conftest import account, fault, front_contract, market_order

if TYPE_CHECKING:
    from brokers.sim.config import SimEndpoints
    from brokers.sim.venue import SimVenue


async def test_a_market_order_publishes_its_entities_in_order(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints]
) -> None:
    """One list per command, in the digest's order; clOrdId kept on the command."""
    _, changes = served[0].tradovate.changes.subscribe()
    answer = await market_order(client, clOrdId="sig-1")
    seen = [(c.entity_type, c.event_type) for c in changes.receive_nowait()]
    assert seen[:3] == [("order", "Created"), ("command", "Created"), ("orderVersion", "Created")]
    kinds = [t for t, _ in seen]
    assert kinds.index("executionReport") < kinds.index("fill")
    assert kinds[-3:] == ["order", "position", "cashBalance"]
    commands = (await client.get("/command/deps", params={"masterid": answer["orderId"]})).json()
    assert commands[0]["clOrdId"] == "sig-1"
    versions = (
        await client.get("/orderVersion/deps", params={"masterid": answer["orderId"]})
    ).json()
    assert versions[0]["id"] == commands[0]["id"]
    reports = (
        await client.get("/executionReport/deps", params={"masterid": commands[0]["id"]})
    ).json()
    assert [r["execType"] for r in reports] == ["New", "Trade"]
    fills = (await client.get("/fill/deps", params={"masterid": answer["orderId"]})).json()
    assert fills[0]["qty"] == 1


async def test_one_cl_ord_id_twice_places_two_orders(client: httpx.AsyncClient) -> None:
    """clOrdId is not enforced unique: both orders work."""
    first = await market_order(client, clOrdId="same")
    second = await market_order(client, clOrdId="same")
    assert first["orderId"] != second["orderId"]
    position = (await client.get("/position/list")).json()[0]
    assert position["netPos"] == 2


async def test_oso_modify_and_liquidate(client: httpx.AsyncClient) -> None:
    """OSO brackets work after the fill, OCO with each other; modify keeps the id and needs
    orderQty and orderType; liquidate cancels the brackets and flattens without a flip."""
    acct = await account(client)
    contract = await front_contract(client)
    body = {
        "accountId": acct["id"],
        "action": "Buy",
        "symbol": contract["name"],
        "orderQty": 1,
        "orderType": "Market",
        "bracket1": {"action": "Sell", "orderType": "Limit", "price": 99000},
        "bracket2": {"action": "Sell", "orderType": "Stop", "stopPrice": 100},
    }
    oso = (await client.post("/order/placeoso", json=body)).json()
    take_profit = (await client.get("/order/item", params={"id": oso["oso1Id"]})).json()
    assert take_profit["parentId"] == oso["orderId"]
    assert take_profit["linkedId"] == oso["oso2Id"]
    assert take_profit["ordStatus"] == "Working"
    refused = await client.post(
        "/order/modifyorder", json={"orderId": oso["oso1Id"], "price": 98000}
    )
    assert refused.status_code == 400
    moved = (
        await client.post(
            "/order/modifyorder",
            json={"orderId": oso["oso1Id"], "orderQty": 1, "orderType": "Limit", "price": 98000},
        )
    ).json()
    versions = (await client.get("/orderVersion/deps", params={"masterid": oso["oso1Id"]})).json()
    assert versions[-1] == {**versions[-1], "id": moved["commandId"], "price": 98000}
    liquidated = (
        await client.post(
            "/order/liquidateposition",
            json={"accountId": acct["id"], "contractId": contract["id"], "admin": False},
        )
    ).json()
    assert "orderId" in liquidated
    statuses = {o["id"]: o["ordStatus"] for o in (await client.get("/order/list")).json()}
    assert statuses[oso["oso1Id"]] == statuses[oso["oso2Id"]] == "Canceled"
    assert (await client.get("/position/list")).json()[0]["netPos"] == 0
    again = (
        await client.post(
            "/order/liquidateposition",
            json={"accountId": acct["id"], "contractId": contract["id"], "admin": False},
        )
    ).json()
    assert "failureReason" in again


async def test_multibracket_strategy_sends_brackets_at_the_fill(client: httpx.AsyncClient) -> None:
    """startorderstrategy: the entry fills, one TP/SL pair at signed offsets from the fill."""
    acct = await account(client)
    contract = await front_contract(client)
    params = (
        '{"entryVersion":{"orderQty":1,"orderType":"Market"},'
        '"brackets":[{"qty":1,"profitTarget":75,"stopLoss":-33}]}'
    )
    started = (
        await client.post(
            "/orderStrategy/startorderstrategy",
            json={
                "accountId": acct["id"],
                "symbol": contract["name"],
                "orderStrategyTypeId": 2,
                "action": "Buy",
                "params": params,
            },
        )
    ).json()
    strategy_id = started["orderStrategy"]["id"]
    links = (await client.get("/orderStrategyLink/deps", params={"masterid": strategy_id})).json()
    assert [link["label"] for link in links] == ["Entry", "TP", "SL"]
    fill = (await client.get("/fill/deps", params={"masterid": links[0]["orderId"]})).json()[0]
    tp = (await client.get("/orderVersion/deps", params={"masterid": links[1]["orderId"]})).json()
    assert tp[0]["price"] == fill["price"] + 75


async def test_wrong_account_is_access_denied(client: httpx.AsyncClient) -> None:
    """A user id passed as accountId: HTTP 200 failureReason / "Access is denied"."""
    answer = await market_order(client, accountId=1, accountSpec=None)
    assert answer == {"failureReason": "UnknownReason", "failureText": "Access is denied"}


@pytest.mark.parametrize("status", [429, 423])
async def test_http_status_fault_has_an_empty_body(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints], status: int
) -> None:
    """http_status 429/423: that status, Content-Length 0, then normal again."""
    await fault(served, "http_status", status=status, count=1)
    response = await client.get("/account/list")
    assert response.status_code == status
    assert response.headers["content-length"] == "0"
    assert (await client.get("/account/list")).status_code == 200


async def test_p_ticket_fault_is_honoured_on_the_resend(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints], autojump_clock: Any
) -> None:
    """p_ticket: the penalty body; the resend with the ticket before p-time gets another,
    after p-time it goes through."""
    import trio

    acct = await account(client)
    body = {
        "accountId": acct["id"],
        "action": "Buy",
        "symbol": (await front_contract(client))["name"],
        "orderQty": 1,
        "orderType": "Market",
    }
    await fault(served, "p_ticket", count=1, seconds=5)
    penalty = (await client.post("/order/placeorder", json=body)).json()
    assert penalty["p-time"] == 5
    resend = {**body, "p-ticket": penalty["p-ticket"]}
    assert "p-ticket" in (await client.post("/order/placeorder", json=resend)).json()
    await trio.sleep(6)
    assert "orderId" in (await client.post("/order/placeorder", json=resend)).json()


async def test_reject_next_and_strategy_disabled(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints]
) -> None:
    """reject_next answers {} and places nothing; strategy_disabled refuses OSO."""
    await fault(served, "reject_next")
    assert await market_order(client) == {}
    assert (await client.get("/order/list")).json() == []
    await fault(served, "strategy_disabled")
    acct = await account(client)
    oso = await client.post(
        "/order/placeoso",
        json={
            "accountId": acct["id"],
            "action": "Buy",
            "symbol": (await front_contract(client))["name"],
            "orderQty": 1,
            "orderType": "Market",
            "bracket1": {"action": "Sell", "orderType": "Limit", "price": 99000},
        },
    )
    assert oso.json()["errorText"] == "Order strategy is disabled"


async def test_lost_response_still_places_the_order(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints]
) -> None:
    """lose_response: the connection drops, the order is at the venue anyway."""
    await fault(served, "lose_response")
    with pytest.raises(httpx.RemoteProtocolError):
        await market_order(client)
    assert len((await client.get("/order/list")).json()) == 1


async def test_a_lost_response_is_spent_only_on_a_command_the_venue_carried_out(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints]
) -> None:
    """lose_response: a request refused before the core (no token) keeps its answer; the
    next real command is the one whose answer is lost."""
    await fault(served, "lose_response")
    token = client.headers.pop("Authorization")
    refused = await client.post("/order/placeorder", json={"action": "Buy"})
    assert refused.status_code == 401
    client.headers["Authorization"] = token
    with pytest.raises(httpx.RemoteProtocolError):
        await market_order(client)
    assert len((await client.get("/order/list")).json()) == 1


async def test_delayed_ack_comes_after_the_events(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints], autojump_clock: Any
) -> None:
    """delay_acks: the entity events are out before the answer."""
    import trio

    await fault(served, "delay_acks", ms=2000)
    _, changes = served[0].tradovate.changes.subscribe()
    started = trio.current_time()
    await market_order(client)
    assert trio.current_time() - started >= 2
    assert changes.receive_nowait()
