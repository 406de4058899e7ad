"""The ``trade_updates`` websocket (path ``/stream``), as Alpaca's paper stream speaks it.

Every frame the venue sends is binary, holding JSON. Both auth forms are accepted: the
legacy ``{"action":"authenticate","data":{"key_id":K,"secret_key":S}}`` (alpaca-py) and the
current ``{"action":"auth","key":K,"secret":S}``. Events produced while a connection is not
listening are not replayed to it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import attrs
import msgspec
import trio
from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from collections.abc import Callable

    from websockets.trio.server import ServerConnection

    from brokers.sim.broadcast import Broadcast

log = logging.getLogger("tradingd.sim.stream")

JSON = dict[str, Any]
_decode = msgspec.json.Decoder(dict[str, Any])


def _authorization(status: str, action: str) -> JSON:
    return {"stream": "authorization", "data": {"status": status, "action": action}}


def _error(message: str) -> JSON:
    return {"stream": "error", "data": {"error_message": message}}


@attrs.define
class TradeStreamSession:
    """One connection's protocol state: message in, replies out. No I/O."""

    _authorize: Callable[[str, str], bool]
    authorized: bool = False
    listening: bool = False

    def receive(self, frame: str | bytes) -> list[JSON]:
        try:
            message = _decode.decode(frame)
        except msgspec.DecodeError:
            return [_error("invalid syntax")]
        data = message.get("data")
        data = data if isinstance(data, dict) else {}
        match message.get("action"):
            case "authenticate":
                return [self._auth(data.get("key_id"), data.get("secret_key"))]
            case "auth":
                return [self._auth(message.get("key"), message.get("secret"))]
            case "listen":
                if not self.authorized:
                    return [_authorization("unauthorized", "listen")]
                streams = data.get("streams")
                wanted = streams if isinstance(streams, list) else []
                self.listening = "trade_updates" in wanted
                names = ["trade_updates"] if self.listening else []
                return [{"stream": "listening", "data": {"streams": names}}]
            case _:
                return [_error("invalid action")]

    def _auth(self, key: object, secret: object) -> JSON:
        ok = isinstance(key, str) and isinstance(secret, str) and self._authorize(key, secret)
        self.authorized = ok
        return _authorization("authorized" if ok else "unauthorized", "authenticate")


async def serve_trade_updates(
    ws: ServerConnection, hub: Broadcast[bytes], authorize: Callable[[str, str], bool]
) -> None:
    """Run one ``/stream`` connection until the client leaves or the venue drops it."""
    session = TradeStreamSession(authorize)
    subscription: int | None = None
    try:
        async with trio.open_nursery() as nursery:
            while True:
                for reply in session.receive(await ws.recv()):
                    await ws.send(msgspec.json.encode(reply))
                if session.listening and subscription is None:
                    subscription, events = hub.subscribe()
                    nursery.start_soon(_forward, ws, session, hub, events, nursery.cancel_scope)
    except* ConnectionClosed:
        pass
    finally:
        if subscription is not None:
            hub.unsubscribe(subscription)


async def _forward(
    ws: ServerConnection,
    session: TradeStreamSession,
    hub: Broadcast[bytes],
    events: trio.MemoryReceiveChannel[bytes],
    scope: trio.CancelScope,
) -> None:
    async with events:
        async for frame in events:
            await hub.hold_if_stalled()
            if session.listening:
                await ws.send(frame)
    # The hub ended this subscription: the venue is dropping the connection.
    log.info("trade_updates connection dropped by the venue")
    await ws.aclose(1001, "dropped")
    scope.cancel()
