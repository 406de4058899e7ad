"""The Tradovate market-data websocket (``/md/v1/websocket``): quotes of the front's contracts.

Same framing as the user socket; ``authorize`` takes the ``mdAccessToken``.
``md/subscribeQuote {"symbol": "MNQZ6"}`` (a contract name or its id, number or text)
answers ``{"s":200,"i":id,"d":{}}`` and then sends the contract's quote at once and at every
price the venue prints for it, as ``{"e":"md","d":{"quotes":[...]}}``. A quote's entries
are the print as ``Trade``, with ``Bid`` and ``Offer`` one tick either side; the sizes are
fixed (``QUOTE_SIZE`` each side, ``TRADE_SIZE`` traded). ``md/unsubscribeQuote`` stops
them. A continuous symbol (``MNQ1!``) is TradingView's name, not Tradovate's: refused, so
a client must resolve the contract first, as it must at Tradovate.

``d`` is ``{}`` on a subscription's answer rather than absent: the official samples read
``response.d["p-ticket"]`` from it.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

import attrs

from brokers.sim.core.contracts import listed_contracts, parse_contract
from brokers.sim.core.tape import PricePrint
from brokers.sim.tradovate.connection import Answer, serve_connection
from brokers.sim.tradovate.frames import (
    BAD_REQUEST,
    error_response,
    md_event,
    not_found,
    response,
)
from brokers.sim.tradovate.sockets import SocketKind

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date, datetime
    from decimal import Decimal

    import trio
    from websockets.trio.server import ServerConnection

    from brokers.sim.core.contracts import FuturesContract
    from brokers.sim.core.tape import MarketItem
    from brokers.sim.tradovate.connection import TradovateConnection
    from brokers.sim.tradovate.frames import Request
    from brokers.sim.tradovate.front import TradovateFront

JSON = dict[str, Any]
QUOTE_SIZE = 10
TRADE_SIZE = 1


def quote_json(contract: FuturesContract, price: Decimal, at: datetime) -> JSON:
    """One quote as Tradovate's md event carries it."""
    tick = contract.product.tick_size
    stamp = at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "timestamp": stamp,
        "contractId": contract.id,
        "entries": {
            "Bid": {"price": price - tick, "size": QUOTE_SIZE},
            "Offer": {"price": price + tick, "size": QUOTE_SIZE},
            "Trade": {"price": price, "size": TRADE_SIZE},
        },
    }


def find_contract(symbol: object, trading_date: date) -> FuturesContract | None:
    """A listed contract by name (``MNQZ6``) or id (``4100...`` as number or text)."""
    listed = listed_contracts(trading_date)
    if isinstance(symbol, int) and not isinstance(symbol, bool):
        return next((c for c in listed if c.id == symbol), None)
    if not isinstance(symbol, str):
        return None
    if symbol.isascii() and symbol.isdigit():
        return find_contract(int(symbol), trading_date)
    contract = parse_contract(symbol, trading_date)
    return contract if contract in listed else None


@attrs.define
class MarketDataSocket:
    """The md socket's subscriptions: contract name → contract."""

    _front: TradovateFront
    _quoted: dict[str, FuturesContract] = attrs.field(factory=dict)
    _subscription: int | None = None

    def user_of(self, token: str) -> int | None:
        return self._front.md_access_user(token)

    async def handle(self, request: Request, connection: TradovateConnection) -> Answer:
        match request.route:
            case "md/subscribequote":
                return self._subscribe(request, connection)
            case "md/unsubscribequote":
                contract = self._contract_of(request)
                if contract is None:
                    return Answer(_unknown_symbol(request))
                self._quoted.pop(contract.name, None)
                return Answer(response(request.request_id, 200, {}))
            case _:
                return Answer(not_found(request.request_id, request.endpoint))

    def _contract_of(self, request: Request) -> FuturesContract | None:
        body = request.body
        symbol = body.get("symbol") if isinstance(body, dict) else None
        return find_contract(symbol, self._front.clock().date())

    def _subscribe(self, request: Request, connection: TradovateConnection) -> Answer:
        contract = self._contract_of(request)
        if contract is None:
            return Answer(_unknown_symbol(request))
        self._quoted[contract.name] = contract
        first = self._subscription is None
        prints: trio.MemoryReceiveChannel[list[MarketItem]] | None = None
        if first:
            self._subscription, prints = self._front.market_data.subscribe()
        price = self._front.core.prices().get(contract.name)
        now = self._front.clock()

        async def quote_then_stream() -> None:
            # The current quote first, so a subscriber never waits for the next price.
            if price is not None:
                connection.send_messages([md_event([quote_json(contract, price, now)])])
            if prints is not None:
                await self._forward(prints, connection)

        return Answer(response(request.request_id, 200, {}), quote_then_stream)

    def quotes(self, items: Iterable[MarketItem]) -> list[JSON]:
        """The quotes of ``items`` this socket subscribed to."""
        return [
            quote_json(self._quoted[item.symbol], item.price, item.at)
            for item in items
            if isinstance(item, PricePrint) and item.symbol in self._quoted
        ]

    async def _forward(
        self,
        prints: trio.MemoryReceiveChannel[list[MarketItem]],
        connection: TradovateConnection,
    ) -> None:
        async with prints:
            async for batch in prints:
                quotes = self.quotes(batch)
                if quotes:
                    connection.send_messages([md_event(quotes)])
        connection.drop("too slow")

    def close(self) -> None:
        if self._subscription is not None:
            self._front.market_data.unsubscribe(self._subscription)
            self._subscription = None


def _unknown_symbol(request: Request) -> JSON:
    body = request.body
    symbol = body.get("symbol") if isinstance(body, dict) else None
    return error_response(request.request_id, BAD_REQUEST, f"Unknown symbol: {symbol}")


async def serve_market_data_socket(ws: ServerConnection, front: TradovateFront) -> None:
    """Run one ``/md/v1/websocket`` connection."""
    await serve_connection(ws, front, SocketKind.MARKET_DATA, MarketDataSocket(front))
