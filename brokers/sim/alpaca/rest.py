"""The venue's REST front: Alpaca's Trading API v2 paths plus the venue's own ``/_sim``.

Every ``/v2`` request first meets the armed faults, then the credentials check
(``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY``); refusals carry Alpaca's error bodies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from wsgiref.handlers import format_date_time

import msgspec
import trio
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from brokers.sim.alpaca.http import (
    DroppedResponse,
    canned,
    close_qty,
    http_error,
    json_response,
    query_day,
    read_body,
)
from brokers.sim.alpaca.listing import OrderQuery
from brokers.sim.alpaca.requests import parse_changes, parse_clock_move, parse_order, parse_prices
from brokers.sim.alpaca.wire import (
    account_json,
    asset_json,
    calendar_json,
    clock_json,
    order_json,
    position_json,
    rfc3339,
)
from brokers.sim.core.orders import SimOrder, VenueRejection
from brokers.sim.faults import FaultError
from brokers.sim.tradovate.rest import build_tradovate_app

if TYPE_CHECKING:
    from brokers.sim.core.assets import SimAsset
    from brokers.sim.venue import SimVenue

# GET /v2/calendar without ``end`` lists this many days after ``start``.
CALENDAR_DAYS = 30

Endpoint = Callable[[Request], Awaitable[Response]]


def build_app(venue: SimVenue) -> Starlette:
    """The ASGI app serving ``venue``."""
    api = _VenueApi(venue)
    v2 = api.guarded
    routes = [
        Route("/v2/account", v2(api.get_account), methods=["GET"]),
        Route("/v2/orders", v2(api.submit_order), methods=["POST"]),
        Route("/v2/orders", v2(api.list_orders), methods=["GET"]),
        Route("/v2/orders", v2(api.cancel_all_orders), methods=["DELETE"]),
        Route("/v2/orders:by_client_order_id", v2(api.get_by_client_id), methods=["GET"]),
        Route("/v2/orders/{order_id}", v2(api.get_order), methods=["GET"]),
        Route("/v2/orders/{order_id}", v2(api.cancel_order), methods=["DELETE"]),
        Route("/v2/orders/{order_id}", v2(api.replace_order), methods=["PATCH"]),
        Route("/v2/positions", v2(api.list_positions), methods=["GET"]),
        Route("/v2/positions", v2(api.close_all_positions), methods=["DELETE"]),
        Route("/v2/positions/{symbol}", v2(api.get_position), methods=["GET"]),
        Route("/v2/positions/{symbol}", v2(api.close_position), methods=["DELETE"]),
        Route("/v2/assets", v2(api.list_assets), methods=["GET"]),
        Route("/v2/assets/{symbol}", v2(api.get_asset), methods=["GET"]),
        Route("/v2/clock", v2(api.get_clock), methods=["GET"]),
        Route("/v2/calendar", v2(api.get_calendar), methods=["GET"]),
        Route("/_sim/state", api.sim_state, methods=["GET"]),
        Route("/_sim/prices", api.sim_prices, methods=["POST"]),
        Route("/_sim/faults", api.sim_faults, methods=["POST"]),
        Route("/_sim/clock", api.sim_clock, methods=["POST"]),
        # The Tradovate front on the same port: its REST base is ``http://HOST:PORT/v1``.
        Mount("/v1", app=build_tradovate_app(venue.tradovate, venue.catch_up)),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


class _VenueApi:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.core = venue.core

    def guarded(self, endpoint: Endpoint) -> Endpoint:
        async def guarded_endpoint(request: Request) -> Response:
            self.venue.arrivals.append(self.venue.clock())
            response = await answer(request)
            # The venue's own time, as a server's Date says it: the clock its
            # X-Ratelimit-Reset counts on (the HTTP server's own Date header is off).
            response.headers["Date"] = format_date_time(self.venue.clock().timestamp())
            return response

        async def answer(request: Request) -> Response:
            stall = self.venue.faults.take_rest_stall()
            if stall:
                await trio.sleep(stall)
            latency = self.venue.faults.rest_latency / 2
            if latency:
                await trio.sleep(latency)
            fault = self.venue.faults.take_http_status(self.venue.clock())
            if fault is not None:
                return canned(fault)
            key = request.headers.get("APCA-API-KEY-ID", "")
            secret = request.headers.get("APCA-API-SECRET-KEY", "")
            if not self.venue.authorize(key, secret):
                return json_response({"message": "unauthorized"}, 401)
            self.venue.catch_up()
            limits: dict[str, str] = {}
            decision = self.venue.take_rate(key)
            if decision is not None:
                limits = decision.headers
                if not decision.allowed:
                    body = {"code": 42910000, "message": "rate limit exceeded"}
                    return json_response(body, 429, limits)
            try:
                response = await endpoint(request)
            except VenueRejection as refused:
                response = json_response(refused.body, refused.status)
            response.headers.update(limits)
            if latency:
                await trio.sleep(latency)
            return response

        return guarded_endpoint

    # Account, assets, clock

    async def get_account(self, request: Request) -> Response:
        return json_response(self._account())

    def _account(self) -> dict[str, Any]:
        return account_json(
            self.core.account(),
            account_id=self.venue.account_id,
            created_at=self.venue.created_at,
            last_equity=self.core.last_equity,
        )

    async def list_assets(self, request: Request) -> Response:
        if request.query_params.get("status", "active") != "active":
            return json_response([])
        return json_response([asset_json(a) for a in self.core.assets()])

    async def get_asset(self, request: Request) -> Response:
        wanted = request.path_params["symbol"]
        for asset in self.core.assets():
            if wanted in (asset.symbol, asset.id):
                return json_response(asset_json(asset))
        raise VenueRejection(404, 40410000, f"asset not found for {wanted}")

    async def get_clock(self, request: Request) -> Response:
        return json_response(clock_json(self.venue.clock()))

    async def get_calendar(self, request: Request) -> Response:
        today = self.venue.clock().date()
        start = query_day(request.query_params.get("start"), today, "start")
        end = query_day(
            request.query_params.get("end"), start + timedelta(days=CALENDAR_DAYS), "end"
        )
        if end < start:
            return json_response([])
        # The venue trades every day, weekends included, as its clock says.
        days = [start + timedelta(days=n) for n in range(min((end - start).days + 1, 5000))]
        return json_response(calendar_json(days))

    # Orders

    async def submit_order(self, request: Request) -> Response:
        body = await read_body(request)
        rejection = self.venue.faults.take_rejection()
        if rejection is not None:
            return canned(rejection)
        ticket = parse_order(body)
        lose = self.venue.faults.take_lost_response()
        delay = self.venue.faults.ack_delay(ticket.symbol)
        reject = self.venue.faults.take_reject_after_accept()
        try:
            order = self.core.submit(ticket, self.venue.clock(), reject_after_accept=reject)
        except BaseException:
            self.venue.publish_events()  # a refusal the core recorded still streams
            raise
        if delay > 0 or lose:
            # A slow or lost answer: the stream tells first, as it would at a real venue.
            self.venue.publish_events()
            if delay > 0:
                await trio.sleep(delay)
            if lose:
                return DroppedResponse()
            return json_response(self._order(order))
        # As at Alpaca, the answer (the order accepted) goes out before its fill is streamed.
        response = json_response(self._order(order))
        response.background = BackgroundTask(self._publish_events)
        return response

    async def _publish_events(self) -> None:
        # Async on purpose: Starlette runs a plain function in a worker thread, and the
        # venue's state belongs to the event loop.
        self.venue.publish_events()

    def _order(self, order: SimOrder) -> dict[str, Any]:
        """An order with its legs nested, as Alpaca answers for one order."""
        return order_json(order, self.core.legs(self.core.order(order.id)))

    async def list_orders(self, request: Request) -> Response:
        query = OrderQuery.from_params(request.query_params)
        if request.query_params.get("nested", "").lower() == "true":
            # Legs roll up under their parent instead of standing on their own.
            parents = [o for o in self.core.orders() if o.parent_id is None]
            return json_response([self._order(o) for o in query.select(parents)])
        return json_response([order_json(o) for o in query.select(self.core.orders())])

    async def get_order(self, request: Request) -> Response:
        return json_response(self._order(self.core.order(request.path_params["order_id"])))

    async def get_by_client_id(self, request: Request) -> Response:
        client_order_id = request.query_params.get("client_order_id", "")
        return json_response(self._order(self.core.order_by_client_id(client_order_id)))

    async def replace_order(self, request: Request) -> Response:
        changes = parse_changes(await read_body(request))
        try:
            new = self.core.replace(request.path_params["order_id"], changes, self.venue.clock())
        finally:
            self.venue.publish_events()
        return json_response(order_json(new))

    async def cancel_order(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        delay = self.venue.faults.cancel_delay
        finish = None
        try:
            if delay > 0 and self.core.order(order_id).status in ("new", "partially_filled"):
                self.core.request_cancel(order_id, self.venue.clock())
                finish = BackgroundTask(self._finish_cancel, order_id, delay)
            else:
                self.core.cancel(order_id, self.venue.clock())
        finally:
            self.venue.publish_events()
        return Response(status_code=204, background=finish)

    async def _finish_cancel(self, order_id: str, delay: float) -> None:
        """The end of a pending cancel: canceled if still working, refused if it filled."""
        await trio.sleep(delay)
        order = self.core.order(order_id)
        if order.is_open:
            self.core.cancel(order_id, self.venue.clock())
        elif order.status == "filled":
            self.core.refuse_cancel(order_id, self.venue.clock())
        self.venue.publish_events()

    async def cancel_all_orders(self, request: Request) -> Response:
        try:
            canceled = self.core.cancel_all(self.venue.clock())
        finally:
            self.venue.publish_events()
        return json_response(
            [{"id": o.id, "status": 200, "body": order_json(o)} for o in canceled], 207
        )

    # Positions

    async def list_positions(self, request: Request) -> Response:
        return json_response(self._all_positions())

    def _all_positions(self) -> list[dict[str, Any]]:
        held = self.core.held_for_orders_by_symbol()
        return [
            position_json(
                p, self._listed(p.symbol), self.core.price(p.symbol), held.get(p.symbol, Decimal(0))
            )
            for p in self.core.positions()
        ]

    def _listed(self, symbol: str) -> SimAsset:
        asset = self.core.asset(symbol)
        assert asset is not None  # only listed assets are ever traded
        return asset

    async def get_position(self, request: Request) -> Response:
        return json_response(self._position(request.path_params["symbol"].upper()))

    def _position(self, symbol: str) -> dict[str, Any]:
        position = self.core.position(symbol)
        held = self.core.held_for_orders(symbol)
        return position_json(position, self._listed(symbol), self.core.price(symbol), held)

    async def close_position(self, request: Request) -> Response:
        symbol = request.path_params["symbol"].upper()
        qty = close_qty(request, abs(self.core.position(symbol).qty))
        try:
            order = self.core.close_position(symbol, qty, self.venue.clock())
        finally:
            self.venue.publish_events()
        return json_response(order_json(order))

    async def close_all_positions(self, request: Request) -> Response:
        now = self.venue.clock()
        results = []
        try:
            if request.query_params.get("cancel_orders", "").lower() == "true":
                self.core.cancel_all(now)
            for position in self.core.positions():
                try:
                    order = self.core.close_position(position.symbol, None, now)
                    results.append(
                        {"symbol": position.symbol, "status": 200, "body": order_json(order)}
                    )
                except VenueRejection as refused:
                    results.append(
                        {"symbol": position.symbol, "status": refused.status, "body": refused.body}
                    )
        finally:
            self.venue.publish_events()
        return json_response(results, 207)

    # The venue's own endpoints (no credentials, no faults)

    async def sim_state(self, request: Request) -> Response:
        self.venue.catch_up()
        orders = self.core.orders()
        return json_response(
            {
                "account": self._account(),
                "positions": self._all_positions(),
                "orders": [order_json(o) for o in orders],
                "submissions": self.core.submissions(),
                "realized_pl": {s: str(v) for s, v in self.core.realized_pl().items()},
                "prices": {s: str(p) for s, p in self.core.prices().items()},
                "requests": [at.isoformat() for at in self.venue.arrivals],
                "rate_limited": self.venue.rate_limited,
                "tradovate": self.venue.futures.state(),
            }
        )

    async def sim_prices(self, request: Request) -> Response:
        try:
            self.venue.set_prices(parse_prices(await read_body(request)))
        except VenueRejection as refused:
            return json_response(refused.body, refused.status)
        return json_response({"prices": {s: str(p) for s, p in self.core.prices().items()}})

    async def sim_faults(self, request: Request) -> Response:
        try:
            spec = msgspec.json.decode(await read_body(request), type=dict[str, Any])
            if spec.get("front") == "tradovate":
                self.venue.tradovate.apply_fault(spec)
            else:
                self.venue.apply_fault(spec)
        except (msgspec.DecodeError, FaultError, VenueRejection) as exc:
            return json_response({"code": 42210000, "message": str(exc)}, 422)
        return json_response({"fault": spec.get("fault")})

    async def sim_clock(self, request: Request) -> Response:
        try:
            move = parse_clock_move(await read_body(request))
            if isinstance(move, timedelta):
                self.venue.clock.advance(move)
            else:
                self.venue.clock.move_to(move)
        except VenueRejection as refused:
            return json_response(refused.body, refused.status)
        except ValueError as exc:
            return json_response({"code": 42210000, "message": str(exc)}, 422)
        # Sessions that closed and bars that completed on the way happen before the answer.
        self.venue.catch_up()
        return json_response({"timestamp": rfc3339(self.venue.clock())})
