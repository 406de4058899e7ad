"""AlpacaBroker's REST calls against a small fake of Alpaca behind httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import httpx
import msgspec
import pytest

from brokers.alpaca import AlpacaBroker
from brokers.base import OrderRequest, OrderStatus, OrderType, Side, VenueCall
from brokers.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    DuplicateClientOrderId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)
from tests.builders import request
from tests.unit.brokers.alpaca.payloads import order_payload

KEY_ID = "PKCANARY0KEY0ID0000"
SECRET = "canary-secret-3f9c1e7d5b"
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@attrs.define
class FakeAlpaca:
    """Alpaca's REST surface, just enough of it: orders kept by id, answers scriptable.

    ``script`` maps ``(method, path)`` to answers given before the normal behaviour: a
    response, an exception to raise (as the transport would), or a function of the request.
    """

    floats: bool = False
    orders: dict[str, dict[str, Any]] = attrs.Factory(dict)
    script: dict[tuple[str, str], list[Answer]] = attrs.Factory(dict)
    requests: list[httpx.Request] = attrs.Factory(list)

    def answer(self, method: str, path: str, *answers: Answer) -> None:
        self.script.setdefault((method, path), []).extend(answers)

    def handle(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        if (req.headers.get("APCA-API-KEY-ID"), req.headers.get("APCA-API-SECRET-KEY")) != (
            KEY_ID,
            SECRET,
        ):
            return httpx.Response(401, json={"message": "unauthorized"})
        scripted = self.script.get((req.method, req.url.path))
        if scripted:
            answer = scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer if isinstance(answer, httpx.Response) else answer(req)
        return self.route(req)

    def route(self, req: httpx.Request) -> httpx.Response:
        path = req.url.path
        if req.method == "POST" and path == "/v2/orders":
            body = json.loads(req.content)
            order = order_payload(
                id=f"venue-{len(self.orders) + 1}",
                client_order_id=body["client_order_id"],
                symbol=body["symbol"],
                qty=float(body["qty"]) if self.floats else body["qty"],
                side=body["side"],
                type=body["type"],
                time_in_force=body["time_in_force"],
                limit_price=body.get("limit_price"),
                status="accepted",
            )
            self.orders[order["id"]] = order
            return httpx.Response(200, json=order)
        if req.method == "GET" and path == "/v2/orders:by_client_order_id":
            cid = req.url.params["client_order_id"]
            for order in self.orders.values():
                if order["client_order_id"] == cid:
                    return httpx.Response(200, json=order)
            return httpx.Response(404, json={"code": 40410000, "message": "order not found"})
        if req.method == "GET" and path == "/v2/orders":
            return httpx.Response(200, json=list(self.orders.values()))
        if path.startswith("/v2/orders/"):
            order_id = path.removeprefix("/v2/orders/")
            if order_id not in self.orders:
                return httpx.Response(404, json={"code": 40410000, "message": "order not found"})
            if req.method == "DELETE":
                self.orders[order_id]["status"] = "canceled"
                return httpx.Response(204)
            return httpx.Response(200, json=self.orders[order_id])
        return httpx.Response(404, json={"code": 40400000, "message": "endpoint not found"})


def broker_for(fake: FakeAlpaca, audit: list[VenueCall] | None = None) -> AlpacaBroker:
    async def record(call: VenueCall) -> None:
        assert audit is not None
        audit.append(call)

    return AlpacaBroker(
        base_url="http://127.0.0.1:8123",
        stream_url="ws://127.0.0.1:8123/stream",
        key_id=KEY_ID,
        secret_key=SECRET,
        audit=record if audit is not None else None,
        transport=httpx.MockTransport(fake.handle),
    )


def raising(error: type[httpx.RequestError], message: str) -> Answer:
    """An answer that is no answer: the transport fails with ``error``."""

    def fail(req: httpx.Request) -> httpx.Response:
        raise error(message, request=req)

    return fail


# --- orders ------------------------------------------------------------------------------------


async def test_submit_posts_alpacas_json_body_and_returns_the_venue_order() -> None:
    """POST /v2/orders carries the credentials and the JSON body; the answer maps back."""
    fake = FakeAlpaca()
    async with broker_for(fake) as broker:
        order = await broker.submit_order(request(qty="10"))
    (sent,) = fake.requests
    assert (sent.method, str(sent.url)) == ("POST", "http://127.0.0.1:8123/v2/orders")
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.content) == {
        "symbol": "AAPL",
        "qty": "10",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "client_order_id": "td-1-entry",
    }
    assert (order.venue_order_id, order.client_order_id) == ("venue-1", "td-1-entry")
    assert (order.status, order.qty, order.filled_avg_price) == (
        OrderStatus.NEW,
        Decimal(10),
        None,
    )


async def test_a_bracket_submit_sends_both_legs() -> None:
    """A request with both exits goes out as an Alpaca bracket."""
    fake = FakeAlpaca()
    req = OrderRequest(
        client_order_id="td-2-entry",
        symbol="AAPL",
        side=Side.BUY,
        qty=Decimal(5),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("100.00"),
        take_profit=Decimal("110.00"),
        stop_loss=Decimal("95.00"),
    )
    async with broker_for(fake) as broker:
        order = await broker.submit_order(req)
    body = json.loads(fake.requests[0].content)
    assert body["order_class"] == "bracket"
    assert (body["take_profit"], body["stop_loss"]) == (
        {"limit_price": "110.00"},
        {"stop_price": "95.00"},
    )
    assert order.limit_price == Decimal("100.00")


async def test_float_answers_decode_to_exact_decimals() -> None:
    """A venue answering with JSON floats (as alpaca-py's world does) still gives Decimals."""
    fake = FakeAlpaca(floats=True)
    audit: list[VenueCall] = []
    async with broker_for(fake, audit) as broker:
        order = await broker.submit_order(request(qty="2.5"))
    assert audit[0].response_body is not None
    assert '"qty":2.5,' in audit[0].response_body
    assert order.qty == Decimal("2.5")


async def test_lookup_by_client_id_finds_the_order_or_returns_none() -> None:
    """GET /v2/orders:by_client_order_id: the order when the venue has it, None on 404."""
    fake = FakeAlpaca()
    async with broker_for(fake) as broker:
        assert await broker.get_order_by_client_id("td-9-entry") is None
        await broker.submit_order(request(cid="td-9-entry"))
        found = await broker.get_order_by_client_id("td-9-entry")
    assert found is not None
    assert found.venue_order_id == "venue-1"
    lookup = fake.requests[0]
    assert lookup.url.path == "/v2/orders:by_client_order_id"
    assert lookup.url.params["client_order_id"] == "td-9-entry"


async def test_get_order_reads_one_order_and_404_is_not_found() -> None:
    """GET /v2/orders/{id} returns the order; an unknown id raises OrderNotFound."""
    fake = FakeAlpaca()
    async with broker_for(fake) as broker:
        placed = await broker.submit_order(request())
        again = await broker.get_order(placed.venue_order_id)
        with pytest.raises(OrderNotFound):
            await broker.get_order("no-such-order")
    assert again == placed
    assert fake.requests[1].url.path == "/v2/orders/venue-1"


async def test_list_orders_asks_oldest_first_with_legs_nested() -> None:
    """GET /v2/orders carries status, limit, after, direction=asc and nested=true."""
    fake = FakeAlpaca()
    leg = order_payload(id="leg-1", client_order_id="td-1-tp", side="sell", status="held")
    fake.orders["p-1"] = order_payload(id="p-1", order_class="bracket", legs=[leg])
    async with broker_for(fake) as broker:
        orders = await broker.list_orders(
            status="all", after=datetime(2026, 1, 5, 15, 0, tzinfo=UTC), limit=50
        )
    assert list(fake.requests[0].url.params.multi_items()) == [
        ("status", "all"),
        ("limit", "50"),
        ("after", "2026-01-05T15:00:00Z"),
        ("direction", "asc"),
        ("nested", "true"),
    ]
    (order,) = orders
    assert [leg.status for leg in order.legs] == [OrderStatus.HELD]


async def test_cancel_accepts_204_and_maps_404_and_422() -> None:
    """DELETE answers 204 on success, OrderNotFound on 404, OrderRejected when not cancelable."""
    fake = FakeAlpaca()
    async with broker_for(fake) as broker:
        placed = await broker.submit_order(request())
        await broker.cancel_order(placed.venue_order_id)
        with pytest.raises(OrderNotFound):
            await broker.cancel_order("no-such-order")
        fake.answer(
            "DELETE",
            "/v2/orders/venue-1",
            httpx.Response(422, json={"code": 42210000, "message": "order is not cancelable"}),
        )
        with pytest.raises(OrderRejected, match="not cancelable") as rejected:
            await broker.cancel_order(placed.venue_order_id)
    assert fake.orders["venue-1"]["status"] == "canceled"
    assert rejected.value.status == 422


async def test_positions_account_and_assets_come_back_as_domain_types() -> None:
    """GET /v2/positions, /v2/account and /v2/assets?status=active map to domain types."""
    fake = FakeAlpaca()
    fake.answer(
        "GET",
        "/v2/positions",
        httpx.Response(
            200,
            json=[
                {"symbol": "AAPL", "qty": "6", "avg_entry_price": "179.08", "side": "long"},
                {"symbol": "TSLA", "qty": -3.0, "avg_entry_price": 250.5, "side": "short"},
            ],
        ),
    )
    fake.answer(
        "GET",
        "/v2/account",
        httpx.Response(
            200,
            json={
                "id": "a-1",
                "status": "ACTIVE",
                "cash": "1000.5",
                "buying_power": "2001",
                "equity": "1000.5",
            },
        ),
    )
    fake.answer(
        "GET",
        "/v2/assets",
        httpx.Response(200, json=[{"symbol": "AAPL", "class": "us_equity", "tradable": True}]),
    )
    async with broker_for(fake) as broker:
        positions = await broker.list_positions()
        account = await broker.get_account()
        assets = await broker.list_assets()
    assert [(p.symbol, p.qty) for p in positions] == [("AAPL", Decimal(6)), ("TSLA", Decimal(-3))]
    assert positions[1].avg_entry_price == Decimal("250.5")
    assert (account.cash, account.buying_power) == (Decimal("1000.5"), Decimal(2001))
    assert [(a.symbol, a.tradable) for a in assets] == [("AAPL", True)]
    assert fake.requests[2].url.params["status"] == "active"


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(401, json={"message": "unauthorized"}), AuthenticationFailed),
        (httpx.Response(403, json={"code": 40310000, "message": "insufficient buying power"}), OrderRejected),
        (httpx.Response(422, json={"code": 40010001, "message": "client_order_id must be unique"}), DuplicateClientOrderId),
        (httpx.Response(422, content=b"{}"), OrderRejected),
        (httpx.Response(429, headers={"Retry-After": "2"}), RateLimited),
        (httpx.Response(503, text="upstream unavailable"), BrokerUnavailable),
    ],
)  # fmt: skip
async def test_each_error_answer_raises_its_exception(
    answer: httpx.Response, error: type[BrokerError]
) -> None:
    """A non-2xx submit raises the mapped exception class, never an httpx one."""
    fake = FakeAlpaca()
    fake.answer("POST", "/v2/orders", answer)
    async with broker_for(fake) as broker:
        with pytest.raises(error) as raised:
            await broker.submit_order(request())
    assert type(raised.value) is error


async def test_a_read_timeout_may_have_arrived_and_a_connect_error_did_not() -> None:
    """ReadTimeout -> outcome unknown; ConnectError -> not sent; both BrokerUnavailable."""
    fake = FakeAlpaca()
    fake.answer(
        "POST",
        "/v2/orders",
        raising(httpx.ReadTimeout, "timed out"),
        raising(httpx.ConnectError, "refused"),
        raising(httpx.RemoteProtocolError, "gone"),
    )
    outcomes = []
    async with broker_for(fake) as broker:
        for _ in range(3):
            with pytest.raises(BrokerUnavailable) as raised:
                await broker.submit_order(request())
            assert isinstance(raised.value.__cause__, httpx.HTTPError)
            outcomes.append(raised.value.request_may_have_arrived)
    assert outcomes == [True, False, True]


async def test_a_rate_limit_reports_the_venues_wait() -> None:
    """429 with Retry-After raises RateLimited with that many seconds."""
    fake = FakeAlpaca()
    fake.answer("GET", "/v2/account", httpx.Response(429, headers={"Retry-After": "7"}))
    async with broker_for(fake) as broker:
        with pytest.raises(RateLimited) as raised:
            await broker.get_account()
    assert raised.value.retry_after == 7.0


async def test_an_unreadable_answer_is_a_broker_error() -> None:
    """A 200 the adapter cannot read raises BrokerError, not a msgspec error."""
    fake = FakeAlpaca()
    fake.answer(
        "POST",
        "/v2/orders",
        httpx.Response(200, content=b"<html>hello</html>"),
        httpx.Response(200, json=order_payload(status="teleported")),
    )
    async with broker_for(fake) as broker:
        for _ in range(2):
            with pytest.raises(BrokerError, match="unreadable") as raised:
                await broker.submit_order(request())
            assert type(raised.value) is BrokerError


# --- audit and secrets -------------------------------------------------------------------------


async def test_every_rest_call_is_audited_once() -> None:
    """One VenueCall per call: method, path with query, status, bodies, error, latency."""
    fake = FakeAlpaca()
    audit: list[VenueCall] = []
    async with broker_for(fake, audit) as broker:
        await broker.submit_order(request(cid="td-1-entry"))
        fake.answer(
            "POST",
            "/v2/orders",
            httpx.Response(403, json={"code": 40310000, "message": "insufficient buying power"}),
        )
        with pytest.raises(OrderRejected):
            await broker.submit_order(request(cid="td-2-entry"))
        await broker.get_order_by_client_id("td-1-entry")
    assert [(c.method, c.path, c.status) for c in audit] == [
        ("POST", "/v2/orders", 200),
        ("POST", "/v2/orders", 403),
        ("GET", "/v2/orders:by_client_order_id?client_order_id=td-1-entry", 200),
    ]
    first, rejected, lookup = audit
    assert first.request_body is not None
    assert json.loads(first.request_body)["client_order_id"] == "td-1-entry"
    assert first.response_body is not None
    assert json.loads(first.response_body)["id"] == "venue-1"
    assert first.error is None
    assert rejected.error == "insufficient buying power"
    assert lookup.request_body is None
    assert all(c.latency_s >= 0 and c.at.tzinfo is not None for c in audit)


async def test_a_call_without_an_answer_is_audited_with_no_status() -> None:
    """A transport failure is audited with status None and the error text."""
    fake = FakeAlpaca()
    fake.answer(
        "GET",
        "/v2/positions",
        raising(httpx.ConnectError, "refused"),
    )
    audit: list[VenueCall] = []
    async with broker_for(fake, audit) as broker:
        with pytest.raises(BrokerUnavailable):
            await broker.list_positions()
    (call,) = audit
    assert (call.status, call.response_body) == (None, None)
    assert call.error is not None
    assert "ConnectError" in call.error


def echo_credentials(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """A misbehaving venue that puts the request's credential headers in its error body."""

    def answer(req: httpx.Request) -> httpx.Response:
        key, secret = req.headers["APCA-API-KEY-ID"], req.headers["APCA-API-SECRET-KEY"]
        return httpx.Response(
            status, json={"code": 1, "message": f"bad {key}/{secret}", "secret": secret}
        )

    return answer


async def test_the_canary_secret_never_reaches_audit_records_exceptions_or_reprs() -> None:
    """Credentials travel only in headers: audit records, exception texts and reprs omit them."""
    fake = FakeAlpaca()
    audit: list[VenueCall] = []
    broker = broker_for(fake, audit)
    texts = [repr(broker)]
    async with broker:
        await broker.submit_order(request())
        fake.answer("POST", "/v2/orders", echo_credentials(403), echo_credentials(500))
        fake.answer("GET", "/v2/account", leak_in_transport_error)
        with pytest.raises(OrderRejected) as rejected:
            await broker.submit_order(request())
        with pytest.raises(BrokerUnavailable) as unavailable:
            await broker.submit_order(request())
        with pytest.raises(BrokerUnavailable) as lost:
            await broker.get_account()
    for raised in (rejected.value, unavailable.value, lost.value):
        texts += [str(raised), repr(raised), repr(vars(raised))]
    # The credentials did reach the venue, so the test can tell a leak from their absence.
    assert all(r.headers["APCA-API-SECRET-KEY"] == SECRET for r in fake.requests)
    assert len(audit) == 4
    recorded = msgspec.json.encode(audit).decode()
    assert "[redacted]" in recorded
    for text in [recorded, *texts]:
        assert SECRET not in text
        assert KEY_ID not in text


def leak_in_transport_error(req: httpx.Request) -> httpx.Response:
    """A transport whose error message quotes the request headers."""
    raise httpx.ReadError(f"reset; sent {dict(req.headers)}", request=req)


async def test_very_short_credentials_do_not_garble_the_venues_words() -> None:
    """Credentials too short to be secrets are not blanked out of ordinary text."""

    def reject(req: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"code": 42210000, "message": "asset is not tradable"})

    audit: list[VenueCall] = []

    async def record(call: VenueCall) -> None:
        audit.append(call)

    broker = AlpacaBroker(
        base_url="http://127.0.0.1:8123",
        stream_url="ws://127.0.0.1:8123/stream",
        key_id="k",
        secret_key="s",
        audit=record,
        transport=httpx.MockTransport(reject),
    )
    async with broker:
        with pytest.raises(OrderRejected, match=r"^asset is not tradable$") as raised:
            await broker.submit_order(request())
    assert raised.value.code == 42210000
    assert audit[0].error == "asset is not tradable"


async def test_list_orders_can_list_legs_on_their_own() -> None:
    """nested=False asks for nested=false: a working leg of a filled bracket is listed too."""
    fake = FakeAlpaca()
    async with broker_for(fake) as broker:
        await broker.list_orders(status="open", nested=False)
    assert fake.requests[0].url.params["nested"] == "false"


async def test_each_audited_call_carries_the_symbol_it_was_about() -> None:
    """A sent order's symbol, a read-back order's, none for a list or a cancel: the audit
    row needs no body decoded again to know its instrument."""
    fake = FakeAlpaca()
    audit: list[VenueCall] = []
    async with broker_for(fake, audit) as broker:
        placed = await broker.submit_order(request(symbol="MSFT"))
        await broker.get_order_by_client_id(placed.client_order_id)
        await broker.get_order(placed.venue_order_id)
        await broker.list_orders(status="all")
        await broker.cancel_order(placed.venue_order_id)
        assert await broker.get_order_by_client_id("never-sent") is None
    assert [(call.method, call.symbol) for call in audit] == [
        ("POST", "MSFT"),
        ("GET", "MSFT"),
        ("GET", "MSFT"),
        ("GET", None),
        ("DELETE", None),
        ("GET", None),
    ]
