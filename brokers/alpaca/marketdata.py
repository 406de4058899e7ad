"""Alpaca's market-data stream (``/v2/iex`` or ``/v2/sip``), JSON form: trades only.

Wire: the server greets ``[{"T":"success","msg":"connected"}]``; we send
``{"action":"auth","key":K,"secret":S}`` and expect ``[{"T":"success","msg":"authenticated"}]``;
then ``{"action":"subscribe","trades":[...]}``; data arrives as arrays of messages, a trade
being ``{"T":"t","S":symbol,"p":price,"s":size,"t":timestamp,...}``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
from websockets.exceptions import WebSocketException
from websockets.trio.client import ClientConnection, connect

from brokers.base import Trade
from brokers.errors import AuthenticationFailed, BrokerUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

log = logging.getLogger("tradingd.alpaca.data")

# Data messages are small arrays; a bound keeps a misbehaving peer from ballooning memory.
MAX_MESSAGE_BYTES = 1 << 20


class _DataMessage(msgspec.Struct, frozen=True, tag_field="T"):
    pass


class _Success(_DataMessage, frozen=True, tag="success"):
    msg: str


class _Error(_DataMessage, frozen=True, tag="error"):
    code: int
    msg: str


class _Subscription(_DataMessage, frozen=True, tag="subscription"):
    trades: list[str] = []


class _Trade(_DataMessage, frozen=True, tag="t"):
    S: str
    p: Decimal
    s: Decimal
    t: datetime


_control = msgspec.json.Decoder(list[_Success | _Error | _Subscription | _Trade])
_loose = msgspec.json.Decoder(list[msgspec.Raw])
_one = msgspec.json.Decoder(_Success | _Error | _Subscription | _Trade)


class AlpacaMarketData:
    """``brokers.base.MarketData`` over Alpaca's data websocket."""

    def __init__(self, *, data_url: str, key_id: str, secret_key: str) -> None:
        self._url = data_url
        self._key_id = key_id
        self._secret_key = secret_key

    def __repr__(self) -> str:
        return f"AlpacaMarketData(data_url={self._url!r})"

    @asynccontextmanager
    async def trades(self, symbols: Sequence[str]) -> AsyncIterator[AsyncIterator[Trade]]:
        try:
            async with connect(self._url, max_size=MAX_MESSAGE_BYTES) as ws:
                await _expect(ws, "connected")
                auth = {"action": "auth", "key": self._key_id, "secret": self._secret_key}
                await ws.send(msgspec.json.encode(auth).decode())
                await _expect(ws, "authenticated")
                subscribe = {"action": "subscribe", "trades": list(symbols)}
                await ws.send(msgspec.json.encode(subscribe).decode())
                yield _iterate(ws)
        except WebSocketException as exc:
            raise BrokerUnavailable(
                f"market data stream: {exc}", request_may_have_arrived=False
            ) from exc
        except OSError as exc:
            raise BrokerUnavailable(
                f"market data stream unreachable: {exc}", request_may_have_arrived=False
            ) from exc


async def _expect(ws: ClientConnection, msg: str) -> None:
    for item in _decode(await ws.recv()):
        if isinstance(item, _Error):
            if item.code in (401, 402, 403, 404):
                raise AuthenticationFailed(f"market data: {item.msg} ({item.code})")
            raise BrokerUnavailable(
                f"market data: {item.msg} ({item.code})", request_may_have_arrived=False
            )
        if isinstance(item, _Success) and item.msg == msg:
            return
    raise BrokerUnavailable(f"market data: expected {msg!r}", request_may_have_arrived=False)


async def _iterate(ws: ClientConnection) -> AsyncIterator[Trade]:
    try:
        async for frame in ws:
            for item in _decode(frame):
                if isinstance(item, _Trade):
                    yield Trade(symbol=item.S, price=item.p, size=item.s, at=item.t)
                elif isinstance(item, _Error):
                    log.warning("market data error %s: %s", item.code, item.msg)
    except WebSocketException as exc:
        raise BrokerUnavailable(
            f"market data stream: {exc}", request_may_have_arrived=False
        ) from exc
    raise BrokerUnavailable("market data stream closed", request_may_have_arrived=False)


def _decode(frame: str | bytes) -> list[_Success | _Error | _Subscription | _Trade]:
    try:
        return _control.decode(frame)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError:
        log.warning("market data: a frame that is not JSON was skipped")
        return []
    # A mix of kinds we read and kinds we skip (quotes, bars, newer ones): item by item.
    items: list[_Success | _Error | _Subscription | _Trade] = []
    for raw in _loose.decode(frame):
        try:
            items.append(_one.decode(raw))
        except msgspec.ValidationError:
            continue
    return items
