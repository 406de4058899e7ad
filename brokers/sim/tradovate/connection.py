"""One Tradovate websocket connection: the I/O shell both sockets share.

It sends ``o``, reads the client's frames, answers ``authorize`` itself and hands every
other request to the socket's ``RequestHandler``. One writer task sends everything, in the
order it was queued; it sends ``h`` once nothing went out for ``HEARTBEAT_S`` and holds
everything back while the socket's hub is stalled. The connection closes when the client
is silent for the front's ``ws_client_timeout``, is not authorized within
``AUTH_TIMEOUT_S``, or when the venue ends it (``sockets.Ending``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio
from websockets.exceptions import ConnectionClosed

from brokers.sim.tradovate.frames import (
    BAD_REQUEST,
    HEARTBEAT_FRAME,
    OPEN_FRAME,
    FrameError,
    Heartbeat,
    Request,
    close_frame,
    data_frame,
    error_response,
    parse_client_frame,
    response,
    shutdown_event,
)
from brokers.sim.tradovate.sockets import Drop, SessionEnded, Shutdown, SocketKind

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from websockets.trio.server import ServerConnection

    from brokers.sim.broadcast import Broadcast
    from brokers.sim.tradovate.front import TradovateFront
    from brokers.sim.tradovate.sockets import Ending

log = logging.getLogger("tradingd.sim.tradovate")

JSON = dict[str, Any]
HEARTBEAT_S = 2.5
AUTH_TIMEOUT_S = 5.0
OUTBOUND_BUFFER = 4096
# How long a closing handshake may take before the socket is simply let go.
CLOSE_TIMEOUT_S = 2.0


@attrs.frozen
class Answer:
    """A request's answer, and what to start once it is queued (or lost): a stream that
    must not get ahead of the answer."""

    message: JSON
    after: Callable[[], Awaitable[None]] | None = None


class RequestHandler(Protocol):
    def user_of(self, token: str) -> int | None:
        """The user a token authorizes on this socket, else None."""

    async def handle(self, request: Request, connection: TradovateConnection) -> Answer:
        """Answer a request on an authorized connection."""

    def close(self) -> None:
        """The connection is over: let go of subscriptions."""


@attrs.frozen
class _Closing:
    """Frames to send last, then the close."""

    frames: tuple[str, ...]
    reason: str


_Outbound = str | _Closing


@attrs.define
class TradovateConnection:
    _ws: ServerConnection
    _front: TradovateFront
    kind: SocketKind
    _handler: RequestHandler
    _nursery: trio.Nursery
    _scope: trio.CancelScope
    token: str | None = None
    user_id: int | None = None
    # The connection's key in the front's socket registry.
    _key: int = -1
    _close_reason: str = "closed"
    _out_send: trio.MemorySendChannel[_Outbound] = attrs.field(init=False)
    _out_receive: trio.MemoryReceiveChannel[_Outbound] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._out_send, self._out_receive = trio.open_memory_channel[_Outbound](OUTBOUND_BUFFER)

    @property
    def _hub(self) -> Broadcast[Any]:
        return self._front.changes if self.kind is SocketKind.USER else self._front.market_data

    def send_messages(self, messages: list[JSON]) -> None:
        """Queue one ``a`` frame."""
        if messages:
            self._queue(data_frame(messages))

    def start(self, task: Callable[[], Awaitable[None]]) -> None:
        self._nursery.start_soon(task)

    def end(self, ending: Ending) -> None:
        """End the connection as the venue decided (a fault, or the session ended)."""
        match ending:
            case Drop():
                self.drop("dropped")
            case Shutdown(reason_code=code, reason=reason):
                event = data_frame([shutdown_event(code, reason)])
                self._close_soon(_Closing((event, close_frame(reason or code)), "shutdown"))
            case SessionEnded():
                self._close_soon(_Closing((close_frame("Session closed"),), "session closed"))

    def _close_soon(self, closing: _Closing) -> None:
        """Queue the last frames and the close, but drop the socket anyway if they are not
        out within CLOSE_TIMEOUT_S: a client that stopped reading would keep it forever."""
        self._queue(closing)
        self._nursery.start_soon(self._drop_later, closing.reason)

    async def _drop_later(self, reason: str) -> None:
        await trio.sleep(CLOSE_TIMEOUT_S)
        self.drop(reason)

    def drop(self, reason: str) -> None:
        """Close now, whatever is still queued."""
        self._close_reason = reason
        self._scope.cancel()

    def _queue(self, item: _Outbound) -> None:
        try:
            self._out_send.send_nowait(item)
        except trio.WouldBlock:
            # A client this far behind is dropped rather than slowing the venue.
            self.drop("too slow")

    async def write(self) -> None:
        while True:
            item: _Outbound = HEARTBEAT_FRAME
            with trio.move_on_after(HEARTBEAT_S):
                item = await self._out_receive.receive()
            await self._hub.hold_if_stalled()
            match item:
                case str():
                    await self._ws.send(item)
                case _Closing(frames=frames, reason=reason):
                    for frame in frames:
                        await self._ws.send(frame)
                    self.drop(reason)
                    return

    async def read(self) -> None:
        auth_deadline = trio.current_time() + AUTH_TIMEOUT_S
        while True:
            silence = trio.current_time() + self._front.ws_client_timeout
            authorizing = self.token is None and auth_deadline < silence
            deadline = auth_deadline if authorizing else silence
            frame: str | bytes | None = None
            with trio.move_on_at(deadline):
                frame = await self._ws.recv()
            if frame is None:
                reason = "Not authorized in time" if authorizing else "No heartbeat from client"
                self._close_soon(_Closing((close_frame(reason),), reason))
                await trio.sleep_forever()
            await self._receive(frame)

    async def _receive(self, text: str | bytes) -> None:
        try:
            frame = parse_client_frame(text)
        except FrameError as exc:
            if exc.request_id is None:
                log.info("tradovate socket: unreadable frame ignored: %s", exc)
            else:
                self.send_messages([error_response(exc.request_id, BAD_REQUEST, str(exc))])
            return
        match frame:
            case Heartbeat():
                return
            case Request(route="authorize"):
                self._authorize(frame)
            case Request() if self.token is None:
                text = "Not authorized: send authorize first"
                self.send_messages([error_response(frame.request_id, 401, text)])
            case Request():
                await self._answer(frame)

    def _authorize(self, request: Request) -> None:
        token = request.body if isinstance(request.body, str) else ""
        user = self._handler.user_of(token) if token else None
        if user is None:
            self.send_messages([error_response(request.request_id, 401, "Invalid access token")])
            return
        self.token, self.user_id = token, user
        self._front.sockets.authorized(self._key, token)
        self.send_messages([response(request.request_id, 200)])

    async def _answer(self, request: Request) -> None:
        answer = await self._handler.handle(request, self)
        faults = self._front.stream_faults
        if self.kind is SocketKind.USER and faults.take_lost_response():
            log.info("tradovate socket: answer to %s lost (fault)", request.endpoint)
            if answer.after is not None:
                self.start(answer.after)
            return
        delay = faults.ack_delay if self.kind is SocketKind.USER else 0.0
        if delay > 0:
            self.start(lambda: self._answer_later(answer, delay))
        else:
            self._deliver(answer)

    async def _answer_later(self, answer: Answer, delay: float) -> None:
        await trio.sleep(delay)
        self._deliver(answer)

    def _deliver(self, answer: Answer) -> None:
        self.send_messages([answer.message])
        if answer.after is not None:
            self.start(answer.after)

    def register(self) -> None:
        self._key = self._front.sockets.add(self.kind, self.end)

    async def close(self) -> None:
        """The closing handshake, bounded, after the connection's tasks have ended."""
        self._front.sockets.remove(self._key)
        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT_S):
            await self._ws.aclose(1000, self._close_reason[:120])


async def serve_connection(
    ws: ServerConnection,
    front: TradovateFront,
    kind: SocketKind,
    handler: RequestHandler,
) -> None:
    """Run one Tradovate socket until it closes, for whatever reason."""
    scope = trio.CancelScope()
    connection: TradovateConnection | None = None
    try:
        with scope:
            async with trio.open_nursery() as nursery:
                connection = TradovateConnection(ws, front, kind, handler, nursery, scope)
                connection.register()
                await ws.send(OPEN_FRAME)
                nursery.start_soon(connection.write)
                await connection.read()
    except* ConnectionClosed:
        pass
    finally:
        handler.close()
        if connection is not None:
            await connection.close()
