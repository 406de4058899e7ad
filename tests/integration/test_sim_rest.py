"""The paper venue's REST front over real loopback HTTP: orders, positions, errors, state."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from brokers.sim import SimAsset, SimConfig, SimControl, SimEndpoints

AUTH = {"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": "secret"}
PRICES = {"AAPL": Decimal("100.00"), "MSFT": Decimal("400.00"), "HARD": Decimal("50.00")}
# The fields alpaca-py refuses an Order without.
ORDER_REQUIRED = {
    "id",
    "client_order_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "time_in_force",
    "status",
    "extended_hours",
}


def market(
    symbol: str = "AAPL", qty: object = "10", side: str = "buy", **extra: object
) -> dict[str, object]:
    return {
        "symbol": symbol,
        "qty": qty,
        "side": side,
        "type": "market",
        "time_in_force": "day",
    } | extra


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(
        prices=PRICES,
        cash=Decimal(10000),
        key_id="key",
        secret_key="secret",
        assets=[SimAsset(symbol="HARD", shortable=False, fractionable=False)],
    )


async def test_market_order_answers_accepted_then_reads_filled(client: httpx.AsyncClient) -> None:
    """POST answers 200 with the accepted order; GET then shows it filled at the price."""
    response = await client.post("/v2/orders", json=market(client_order_id="c-1"))
    assert response.status_code == 200
    accepted = response.json()
    assert {k for k, v in accepted.items() if v is not None} >= ORDER_REQUIRED
    assert (accepted["status"], accepted["filled_qty"], accepted["qty"]) == ("accepted", "0", "10")
    assert accepted["created_at"].endswith("Z")
    filled = (await client.get(f"/v2/orders/{accepted['id']}")).json()
    assert (filled["status"], filled["filled_qty"], filled["filled_avg_price"]) == (
        "filled",
        "10",
        "100",
    )
    by_client = await client.get("/v2/orders:by_client_order_id", params={"client_order_id": "c-1"})
    assert by_client.json()["id"] == accepted["id"]


async def test_fill_updates_positions_and_account(client: httpx.AsyncClient) -> None:
    """After a buy the position and the account's cash, equity and buying power move."""
    await client.post("/v2/orders", json=market(qty="10"))
    (position,) = (await client.get("/v2/positions")).json()
    assert position["symbol"] == "AAPL"
    assert (position["qty"], position["side"], position["avg_entry_price"]) == ("10", "long", "100")
    assert (await client.get("/v2/positions/AAPL")).json()["market_value"] == "1000"
    account = (await client.get("/v2/account")).json()
    assert (account["cash"], account["equity"], account["buying_power"]) == (
        "9000",
        "10000",
        "9000",
    )
    assert account["status"] == "ACTIVE"


async def test_numbers_are_accepted_as_floats_or_strings(client: httpx.AsyncClient) -> None:
    """alpaca-py's float quantities and prices are read exactly, like strings."""
    as_float = await client.post(
        "/v2/orders", json={**market(qty=1.5), "type": "limit", "limit_price": 99.1}
    )
    assert as_float.status_code == 200
    assert (as_float.json()["qty"], as_float.json()["limit_price"]) == ("1.5", "99.1")
    as_text = await client.post("/v2/orders", json=market(qty="2.25"))
    assert as_text.json()["qty"] == "2.25"


async def test_short_sale_gives_a_negative_position(client: httpx.AsyncClient) -> None:
    """Selling with no position opens a short with negative qty and market value."""
    await client.post("/v2/orders", json=market(side="sell", qty="5"))
    position = (await client.get("/v2/positions/AAPL")).json()
    assert (position["qty"], position["side"], position["market_value"]) == ("-5", "short", "-500")


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            market(qty="101"),
            403,
            {
                "code": 40310000,
                "message": "insufficient buying power",
                "buying_power": "10000",
                "cost_basis": "10100",
            },
        ),
        (market(symbol="NOPE"), 422, {"code": 42210000, "message": 'could not find asset "NOPE"'}),
        (
            {**market(), "type": "limit", "limit_price": "99.123"},
            422,
            {
                "code": 42210000,
                "message": "invalid limit_price 99.123. sub-penny increment does not fulfill"
                " minimum pricing criteria",
            },
        ),
        (
            market(symbol="HARD", side="sell"),
            422,
            {"code": 42210000, "message": 'asset "HARD" cannot be sold short'},
        ),
        (market(qty="abc"), 400, {"code": 40010000, "message": "request body format is invalid"}),
        (market(side="up"), 422, {"code": 42210000, "message": "invalid side"}),
    ],
)
async def test_refused_orders_carry_alpaca_error_bodies(
    client: httpx.AsyncClient,
    body: dict[str, object],
    status: int,
    expected: dict[str, object],
) -> None:
    """Each refusal has Alpaca's status and JSON body."""
    response = await client.post("/v2/orders", json=body)
    assert (response.status_code, response.json()) == (status, expected)


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    """A body that is not JSON is 400 40010000."""
    response = await client.post("/v2/orders", content=b"{not json")
    assert (response.status_code, response.json()["code"]) == (400, 40010000)


async def test_selling_more_than_held_is_403_insufficient_qty(client: httpx.AsyncClient) -> None:
    """A sell beyond the long position is refused with the available quantity."""
    await client.post("/v2/orders", json=market(qty="3"))
    response = await client.post("/v2/orders", json=market(side="sell", qty="4"))
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == 40310000
    assert body["message"] == "insufficient qty available for order (requested: 4, available: 3)"
    assert (body["available"], body["existing_qty"]) == ("3", "3")


async def test_duplicate_client_order_id_is_422(client: httpx.AsyncClient) -> None:
    """Reusing a client_order_id is 422 40010001."""
    assert (await client.post("/v2/orders", json=market(client_order_id="dup"))).status_code == 200
    again = await client.post("/v2/orders", json=market(client_order_id="dup"))
    assert (again.status_code, again.json()) == (
        422,
        {"code": 40010001, "message": "client_order_id must be unique"},
    )


async def test_unknown_order_and_flat_position_are_404(client: httpx.AsyncClient) -> None:
    """Unknown order ids, client ids and flat positions answer 404 40410000."""
    for path in (
        "/v2/orders/3f1e7f5e-0000-4000-8000-000000000000",
        "/v2/orders:by_client_order_id?client_order_id=nope",
    ):
        response = await client.get(path)
        assert (response.status_code, response.json()) == (
            404,
            {"code": 40410000, "message": "order not found"},
        )
    flat = await client.get("/v2/positions/MSFT")
    assert (flat.status_code, flat.json()["code"]) == (404, 40410000)


async def test_missing_or_wrong_credentials_are_401(venue: SimEndpoints) -> None:
    """Requests without the right key headers are 401 unauthorized."""
    async with httpx.AsyncClient(base_url=venue.alpaca_url) as anonymous:
        bare = await anonymous.get("/v2/account")
        wrong = await anonymous.get(
            "/v2/account", headers={"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": "nope"}
        )
    for response in (bare, wrong):
        assert (response.status_code, response.json()) == (401, {"message": "unauthorized"})


async def test_cancel_is_204_and_the_order_reads_canceled(client: httpx.AsyncClient) -> None:
    """DELETE ends a resting order with 204; a second DELETE is 422; an unknown one 404."""
    resting = (
        await client.post("/v2/orders", json={**market(), "type": "limit", "limit_price": "90"})
    ).json()
    assert (await client.get(f"/v2/orders/{resting['id']}")).json()["status"] == "new"
    response = await client.delete(f"/v2/orders/{resting['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert (await client.get(f"/v2/orders/{resting['id']}")).json()["status"] == "canceled"
    assert (await client.delete(f"/v2/orders/{resting['id']}")).status_code == 422
    assert (await client.delete("/v2/orders/unknown")).status_code == 404


async def test_price_change_fills_a_resting_limit_order(
    client: httpx.AsyncClient, control: SimControl
) -> None:
    """A buy limit rests until /_sim/prices moves the price through it."""
    order = (
        await client.post("/v2/orders", json={**market(), "type": "limit", "limit_price": "95"})
    ).json()
    await control.set_prices({"AAPL": "96.00"})
    assert (await client.get(f"/v2/orders/{order['id']}")).json()["status"] == "new"
    await control.set_prices({"AAPL": "94.80"})
    filled = (await client.get(f"/v2/orders/{order['id']}")).json()
    assert (filled["status"], filled["filled_avg_price"]) == ("filled", "94.8")


async def test_order_listing_filters_by_status_symbol_and_direction(
    client: httpx.AsyncClient,
) -> None:
    """status, symbols, direction and limit select and order the listing."""
    await client.post("/v2/orders", json=market(client_order_id="a1"))
    await client.post("/v2/orders", json=market(symbol="MSFT", qty="1", client_order_id="m1"))
    await client.post(
        "/v2/orders",
        json={**market(client_order_id="a2"), "type": "limit", "limit_price": "50"},
    )

    async def ids(**params: str) -> list[str]:
        orders = (await client.get("/v2/orders", params=params)).json()
        return [o["client_order_id"] for o in orders]

    assert await ids() == ["a2"]
    assert await ids(status="closed") == ["m1", "a1"]
    assert await ids(status="all", direction="asc") == ["a1", "m1", "a2"]
    assert await ids(status="all", symbols="AAPL") == ["a2", "a1"]
    assert await ids(status="all", limit="1") == ["a2"]
    bad = await client.get("/v2/orders", params={"status": "sideways"})
    assert bad.status_code == 422


async def test_assets_and_clock(client: httpx.AsyncClient) -> None:
    """Assets list the venue's instruments with their flags; the clock is open."""
    assets = {a["symbol"]: a for a in (await client.get("/v2/assets")).json()}
    assert set(assets) == {"AAPL", "MSFT", "HARD"}
    assert (assets["HARD"]["shortable"], assets["AAPL"]["shortable"]) == (False, True)
    one = await client.get("/v2/assets/AAPL")
    assert one.json()["class"] == "us_equity"
    assert (await client.get("/v2/assets/NOPE")).status_code == 404
    clock = (await client.get("/v2/clock")).json()
    assert clock["is_open"] is True
    assert set(clock) == {"timestamp", "is_open", "next_open", "next_close"}


async def test_state_counts_submissions_that_reached_the_core(
    client: httpx.AsyncClient, control: SimControl
) -> None:
    """/_sim/state counts attempts per client id; malformed and unauthorized ones do not count."""
    await client.post("/v2/orders", json=market(client_order_id="s1"))
    await client.post("/v2/orders", json=market(client_order_id="s1"))
    await client.post("/v2/orders", json=market(qty="1000", client_order_id="s2"))
    await client.post("/v2/orders", json=market(qty="x", client_order_id="s3"))
    await client.post(
        "/v2/orders", json=market(client_order_id="s4"), headers={"APCA-API-KEY-ID": ""}
    )
    state = await control.state()
    assert state["submissions"] == {"s1": 2, "s2": 1}
    assert [o["client_order_id"] for o in state["orders"]] == ["s1"]
    assert [p["symbol"] for p in state["positions"]] == ["AAPL"]
    assert state["account"]["cash"] == "9000"


async def test_close_position_sends_a_market_order(client: httpx.AsyncClient) -> None:
    """DELETE /v2/positions/{symbol} flattens the position with an opposite order."""
    await client.post("/v2/orders", json=market(qty="4"))
    order = (await client.delete("/v2/positions/AAPL")).json()
    assert (order["side"], order["qty"]) == ("sell", "4")
    assert (await client.get("/v2/positions")).json() == []


async def test_unknown_price_symbol_is_refused(venue: SimEndpoints) -> None:
    """/_sim/prices refuses a symbol the venue does not list, changing nothing."""
    async with httpx.AsyncClient(base_url=venue.alpaca_url) as client:
        response = await client.post("/_sim/prices", json={"AAPL": "1.00", "NOPE": "2.00"})
        assert response.status_code == 422
        state = (await client.get("/_sim/state")).json()
    assert state["prices"]["AAPL"] == "100.00"
