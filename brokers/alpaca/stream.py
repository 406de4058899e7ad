"""Alpaca's ``trade_updates`` websocket (``/stream``) as an iterator of ``OrderUpdate``.

Handshake: send ``{"action":"auth","key":K,"secret":S}``, expect the ``authorization``
reply with status ``authorized``; send ``listen`` for ``trade_updates``, expect
``listening``. Then every ``trade_updates`` message is one event. Paper Alpaca sends
binary frames holding JSON; text frames are read the same way.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import msgspec
import trio
from websockets.exceptions import WebSocketException
from websockets.trio.client import ClientConnection, connect

from brokers.alpaca import mapping, schemas
from brokers.errors import AuthenticationFailed, BrokerUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from brokers.base import OrderUpdate

log = logging.getLogger("tradingd.alpaca.stream")

# One event is a few KB (a bracket with its legs under 10 KB): a low bound keeps a
# misbehaving peer from making us buffer megabytes.
MAX_MESSAGE_BYTES = 256 * 1024

_M = TypeVar("_M", bound=schemas.StreamMessage)

_LISTEN = schemas.ENCODER.encode({"action": "listen", "data": {"streams": ["trade_updates"]}})


@asynccontextmanager
async def open_trade_updates(
    url: str, *, key_id: str, secret_key: str, open_timeout: float
) -> AsyncIterator[AsyncIterator[OrderUpdate]]:
    """Connect, authenticate and listen; yield the updates. Leaving closes the connection.

    Only the connect and the handshake are converted here: whatever the caller's block
    raises passes through untouched.
    """
    async with AsyncExitStack() as stack:
        try:
            ws = await stack.enter_async_context(
                connect(url, max_size=MAX_MESSAGE_BYTES, open_timeout=open_timeout)
            )
            with trio.fail_after(open_timeout):
                await _handshake(ws, key_id, secret_key)
        except (WebSocketException, OSError, trio.TooSlowError) as exc:
            raise BrokerUnavailable(
                f"trade_updates stream: could not connect: {type(exc).__name__}: {exc}",
                request_may_have_arrived=False,
            ) from exc
        yield TradeUpdates(ws)


async def _handshake(ws: ClientConnection, key_id: str, secret_key: str) -> None:
    auth = {"action": "auth", "key": key_id, "secret": secret_key}
    await ws.send(schemas.ENCODER.encode(auth).decode())
    await _reply(ws, schemas.AuthorizationMessage)
    await ws.send(_LISTEN.decode())
    listening = await _reply(ws, schemas.ListeningMessage)
    if "trade_updates" not in listening.data.streams:
        reason = listening.data.error or "trade_updates not among the streams"
        raise BrokerUnavailable(
            f"trade_updates stream: listen refused: {reason}", request_may_have_arrived=False
        )


async def _reply(ws: ClientConnection, kind: type[_M]) -> _M:
    """The next message of ``kind``; an ``unauthorized`` reply to anything is final."""
    while True:
        message = read_frame(await ws.recv())
        if (
            isinstance(message, schemas.AuthorizationMessage)
            and message.data.status != "authorized"
        ):
            raise AuthenticationFailed(
                f"trade_updates stream: {message.data.status} "
                f"(action {message.data.action or 'unknown'})"
            )
        if isinstance(message, kind):
            return message


def read_frame(
    frame: str | bytes,
) -> schemas.StreamMessage | None:
    """One server frame, decoded; None (after a log line) for anything unreadable.

    An error notice is logged: the close that follows it is what ends the stream.
    """
    try:
        return schemas.STREAM_MESSAGE.decode(frame)
    except msgspec.DecodeError as exc:
        reason = str(exc)
    try:
        error = schemas.STREAM_ERROR.decode(frame)
    except msgspec.DecodeError:
        # The reason names a field path and the expected type; the frame itself is not logged.
        log.warning(
            "trade_updates: skipped an unreadable message (%d bytes): %s", len(frame), reason
        )
        return None
    log.warning("trade_updates: venue error %r: %s", error.action, error.data.error_message)
    return None


class TradeUpdates:
    """Async iterator of ``OrderUpdate``; a broken or closed connection raises
    ``BrokerUnavailable`` (it never simply ends: the caller reconnects and re-syncs)."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    def __aiter__(self) -> TradeUpdates:
        return self

    async def __anext__(self) -> OrderUpdate:
        while True:
            try:
                frame = await self._ws.recv()
            except (WebSocketException, OSError) as exc:
                raise BrokerUnavailable(
                    f"trade_updates stream lost: {type(exc).__name__}: {exc}",
                    request_may_have_arrived=True,
                ) from exc
            update = _order_update(frame)
            if update is not None:
                return update


def _order_update(frame: str | bytes) -> OrderUpdate | None:
    message = read_frame(frame)
    if not isinstance(message, schemas.TradeUpdatesMessage):
        return None
    try:
        return mapping.order_update(message.data)
    except mapping.UnreadablePayload as exc:
        log.warning("trade_updates: skipped an event for order %s: %s", message.data.order.id, exc)
        return None
