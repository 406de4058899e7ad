"""Edges of the Tradovate REST front over loopback: bracket exits that must never flip,
prices off the tick grid, entity statuses after arming, junk in a request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from tests.integration.tradovate.conftest import LOGIN, account, front_contract, market_order

if TYPE_CHECKING:
    import httpx


async def _oso(client: httpx.AsyncClient, **entry: Any) -> dict[str, Any]:
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
        **entry,
    }
    answer: dict[str, Any] = (await client.post("/order/placeoso", json=body)).json()
    return answer


async def _modify(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (await client.post("/order/modifyorder", json=body)).json()
    return answer


async def _status(client: httpx.AsyncClient, order_id: int) -> str:
    order = (await client.get("/order/item", params={"id": order_id})).json()
    status: str = order["ordStatus"]
    return status


async def test_both_oso_brackets_show_working_once_the_entry_filled(
    client: httpx.AsyncClient,
) -> None:
    """After the entry's fill both brackets are Working, the stop as well as the limit."""
    oso = await _oso(client)
    assert await _status(client, oso["oso1Id"]) == "Working"
    assert await _status(client, oso["oso2Id"]) == "Working"


async def test_a_bracket_exit_cannot_grow_past_its_position(client: httpx.AsyncClient) -> None:
    """Modify of a take-profit to more contracts than the entry bought is refused: its
    fill would flip the position."""
    oso = await _oso(client)
    answer = await _modify(
        client, orderId=oso["oso1Id"], orderQty=3, orderType="Limit", price=99000
    )
    assert answer["failureReason"] == "UnknownReason"
    versions = (await client.get("/orderVersion/deps", params={"masterid": oso["oso1Id"]})).json()
    assert [v["orderQty"] for v in versions] == [1]


async def test_an_entry_with_brackets_keeps_its_size(client: httpx.AsyncClient) -> None:
    """Modify of a working OSO entry's quantity is refused: its brackets were sized for it,
    and a smaller entry would leave exits that flip the position."""
    oso = await _oso(client, orderQty=3, orderType="Limit", price=1000)
    answer = await _modify(
        client, orderId=oso["orderId"], orderQty=1, orderType="Limit", price=1000
    )
    assert answer["failureReason"] == "UnknownReason"
    moved = await _modify(client, orderId=oso["orderId"], orderQty=3, orderType="Limit", price=1100)
    assert "commandId" in moved


async def test_a_bracket_exit_stays_on_the_tick_grid(client: httpx.AsyncClient) -> None:
    """Moving a take-profit to a price off MNQ's 0.25 grid is refused as InvalidPrice."""
    oso = await _oso(client)
    answer = await _modify(
        client, orderId=oso["oso1Id"], orderQty=1, orderType="Limit", price=98000.1
    )
    assert answer["failureReason"] == "InvalidPrice"


async def test_a_penalty_ticket_of_the_wrong_type_is_no_ticket(client: httpx.AsyncClient) -> None:
    """A ``p-ticket`` that is not a string is ignored, never a server error."""
    junks: list[Any] = [[], {}, 7, None]
    for junk in junks:
        response = await client.post(
            "/cashBalance/getcashbalancesnapshot",
            json={"accountId": (await account(client))["id"], "p-ticket": junk},
        )
        assert response.status_code == 200
        assert "netLiq" in response.json()


async def test_liquidate_in_the_daily_break_is_a_clear_failure(
    client: httpx.AsyncClient, autojump_clock: Any
) -> None:
    """liquidateposition while Globex is in its 16:00-17:00 break: SessionClosed, the
    position kept (never a server error)."""
    await market_order(client)
    acct, contract = await account(client), await front_contract(client)
    await trio.sleep(7.5 * 3600)  # 09:00 -> 16:30 Chicago
    login = (await client.post("/auth/accesstokenrequest", json=LOGIN)).json()
    client.headers["Authorization"] = f"Bearer {login['accessToken']}"
    response = await client.post(
        "/order/liquidateposition",
        json={"accountId": acct["id"], "contractId": contract["id"], "admin": False},
    )
    assert response.status_code == 200
    assert response.json()["failureReason"] == "SessionClosed"
    assert (await client.get("/position/list")).json()[0]["netPos"] == 1


async def test_a_strategy_bracket_of_no_contracts_is_refused_at_the_start(
    client: httpx.AsyncClient,
) -> None:
    """Multibracket brackets of 2 and -1 add up to an entry of 1 but would flip it: the
    start is refused and nothing is placed."""
    acct, contract = await account(client), await front_contract(client)
    params = (
        '{"entryVersion":{"orderQty":1,"orderType":"Market"},"brackets":['
        '{"qty":2,"profitTarget":75,"stopLoss":-33},{"qty":-1,"profitTarget":50,"stopLoss":-20}]}'
    )
    started = await client.post(
        "/orderStrategy/startorderstrategy",
        json={
            "accountId": acct["id"],
            "symbol": contract["name"],
            "orderStrategyTypeId": 2,
            "action": "Buy",
            "params": params,
        },
    )
    assert started.json()["failureReason"] == "UnknownReason"
    assert (await client.get("/order/list")).json() == []
