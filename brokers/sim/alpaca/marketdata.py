"""The market-data websocket (``/v2/iex`` and ``/v2/sip``), in Alpaca's JSON form.

The server greets ``[{"T":"success","msg":"connected"}]``; ``{"action":"auth",...}`` answers
``[{"T":"success","msg":"authenticated"}]``; ``subscribe``/``unsubscribe`` answer the
subscription. Each price the venue sets is printed as a trade (``T:"t"``) and a quote
(``T:"q"``, one cent either side) to the connections subscribed to the symbol; a new
subscriber gets the current prices at once, so it never waits for a first price. Once a
minute of venue time has passed, its bar (``T:"b"``, built from that minute's trades) goes to
the connections subscribed to the symbol's bars.

A client that connects with ``Content-Type: application/msgpack`` (as alpaca-py's
``StockDataStream`` does) speaks msgpack both ways instead: binary frames, numbers as
floats, times as msgpack timestamp extensions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import msgspec
import trio
from websockets.exceptions import ConnectionClosed

from brokers.sim.core.assets import CENT
from brokers.sim.core.tape import TRADE_SIZE, MarketItem, MinuteBar, PricePrint

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from websockets.trio.server import ServerConnection

    from brokers.sim.broadcast import Broadcast

JSON = dict[str, Any]
_decode = msgspec.json.Decoder(dict[str, Any])
_decode_msgpack = msgspec.msgpack.Decoder(dict[str, Any])
# Alpaca sends prices as JSON numbers; written from the Decimal's digits, never a float.
_encode = msgspec.json.Encoder(decimal_format="number")
_encode_msgpack = msgspec.msgpack.Encoder(decimal_format="number")
MSGPACK = "application/msgpack"
CHANNELS = ("trades", "quotes", "bars")


def _error(code: int, msg: str) -> JSON:
    return {"T": "error", "code": code, "msg": msg}


@attrs.define
class DataSession:
    """One connection's protocol state: message in, replies out. No I/O."""

    _authorize: Callable[[str, str], bool]
    msgpack: bool = False
    authorized: bool = False
    closing: bool = False
    _subscribed: dict[str, set[str]] = attrs.field(factory=lambda: {c: set() for c in CHANNELS})

    def greeting(self) -> list[JSON]:
        return [{"T": "success", "msg": "connected"}]

    def encode(self, messages: list[JSON]) -> str | bytes:
        """One frame in the connection's format: JSON text, or binary msgpack."""
        if self.msgpack:
            return _encode_msgpack.encode(messages)
        return _encode.encode(messages).decode()

    def receive(self, frame: str | bytes) -> list[JSON]:
        try:
            if self.msgpack and isinstance(frame, bytes):
                message = _decode_msgpack.decode(frame)
            else:
                message = _decode.decode(frame)
        except msgspec.DecodeError:
            return [_error(400, "invalid syntax")]
        action = message.get("action")
        if action == "auth":
            key, secret = message.get("key"), message.get("secret")
            if isinstance(key, str) and isinstance(secret, str) and self._authorize(key, secret):
                self.authorized = True
                return [{"T": "success", "msg": "authenticated"}]
            self.closing = True
            return [_error(402, "auth failed")]
        if not self.authorized:
            return [_error(401, "not authenticated")]
        if action not in ("subscribe", "unsubscribe"):
            return [_error(400, "invalid syntax")]
        for channel in CHANNELS:
            symbols = message.get(channel) or []
            if not isinstance(symbols, list):
                return [_error(400, "invalid syntax")]
            names = {str(s).upper() if s != "*" else "*" for s in symbols}
            if action == "subscribe":
                self._subscribed[channel] |= names
            else:
                self._subscribed[channel] -= names
        return [self._subscription()]

    def _subscription(self) -> JSON:
        reply: JSON = {"T": "subscription"}
        for channel in CHANNELS:
            reply[channel] = sorted(self._subscribed[channel])
        return reply

    def prints(self, items: Iterable[MarketItem]) -> list[JSON]:
        """The trade, quote and bar messages this connection wants of ``items``."""
        out: list[JSON] = []
        for item in items:
            match item:
                case PricePrint():
                    out += self._trade_and_quote(item)
                case MinuteBar() if self._wants("bars", item.symbol):
                    out.append(_bar(item))
        return out

    def _trade_and_quote(self, p: PricePrint) -> list[JSON]:
        out: list[JSON] = []
        t = p.at
        if self._wants("trades", p.symbol):
            out.append(
                {"T": "t", "S": p.symbol, "i": p.trade_id, "x": "V", "p": p.price}
                | {"s": TRADE_SIZE, "t": t, "c": ["@"], "z": "C"}
            )
        if self._wants("quotes", p.symbol):
            out.append(
                {"T": "q", "S": p.symbol, "bx": "V", "bp": p.price - CENT, "bs": 1}
                | {"ax": "V", "ap": p.price + CENT, "as": 1, "t": t, "c": ["R"], "z": "C"}
            )
        return out

    def _wants(self, channel: str, symbol: str) -> bool:
        wanted = self._subscribed[channel]
        return symbol in wanted or "*" in wanted


def _bar(bar: MinuteBar) -> JSON:
    return {"T": "b", "S": bar.symbol, "o": bar.open, "h": bar.high, "l": bar.low} | {
        "c": bar.close,
        "v": bar.volume,
        "t": bar.start,
        "n": bar.trades,
        "vw": bar.vwap,
    }


async def serve_market_data(
    ws: ServerConnection,
    hub: Broadcast[list[MarketItem]],
    authorize: Callable[[str, str], bool],
    current: Callable[[], list[PricePrint]],
) -> None:
    """Run one market-data connection until the client leaves."""
    assert ws.request is not None
    wants_msgpack = ws.request.headers.get("Content-Type", "").lower() == MSGPACK
    session = DataSession(authorize, msgpack=wants_msgpack)
    key, prints = hub.subscribe()
    try:
        async with trio.open_nursery() as nursery:
            await ws.send(session.encode(session.greeting()))
            nursery.start_soon(_forward, ws, session, prints, nursery.cancel_scope)
            # recv() rather than ``async for``: leaving an async iterator early leaves it
            # unfinalized.
            while not session.closing:
                replies = session.receive(await ws.recv())
                if replies and replies[0].get("T") == "subscription":
                    replies += session.prints(current())
                await ws.send(session.encode(replies))
            nursery.cancel_scope.cancel()
    except* ConnectionClosed:
        pass
    finally:
        hub.unsubscribe(key)


async def _forward(
    ws: ServerConnection,
    session: DataSession,
    prints: trio.MemoryReceiveChannel[list[MarketItem]],
    scope: trio.CancelScope,
) -> None:
    async with prints:
        async for batch in prints:
            messages = session.prints(batch)
            if messages:
                await ws.send(session.encode(messages))
    # The hub ended this subscription (the connection fell too far behind): close it.
    await ws.aclose(1001, "dropped")
    scope.cancel()
