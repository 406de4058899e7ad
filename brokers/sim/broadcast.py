"""Fan-out from the venue to its websocket connections.

Publishing never waits: each subscriber has a bounded buffer, and one that falls that far
behind is dropped (its connection closes) rather than slowing the venue down.
"""

from __future__ import annotations

import itertools
from typing import Generic, TypeVar

import attrs
import trio

T = TypeVar("T")

SUBSCRIBER_BUFFER = 1024


@attrs.define
class Broadcast(Generic[T]):
    _subscribers: dict[int, trio.MemorySendChannel[T]] = attrs.field(factory=dict)
    _ids: itertools.count[int] = attrs.field(factory=itertools.count)
    # Set (and replaced) whenever the set of subscribers changes, to wake waiters.
    _changed: trio.Event = attrs.field(factory=trio.Event)
    # Until this trio time, forwarders hold their items back (the stall_stream fault).
    _stalled_until: float = 0.0
    _stall_changed: trio.Event = attrs.field(factory=trio.Event)

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> tuple[int, trio.MemoryReceiveChannel[T]]:
        send, receive = trio.open_memory_channel[T](SUBSCRIBER_BUFFER)
        key = next(self._ids)
        self._subscribers[key] = send
        self._notify()
        return key, receive

    def unsubscribe(self, key: int) -> None:
        send = self._subscribers.pop(key, None)
        if send is not None:
            send.close()
            self._notify()

    async def wait_for_subscribers(self, count: int) -> None:
        """Return once at least ``count`` connections are subscribed (a client that
        listens from another thread or process has no other way to say it is ready)."""
        while len(self._subscribers) < count:
            await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def publish(self, item: T) -> None:
        for key, send in list(self._subscribers.items()):
            try:
                send.send_nowait(item)
            except (trio.WouldBlock, trio.BrokenResourceError):
                self.unsubscribe(key)

    def stall(self, seconds: float) -> None:
        """Hold back every item from now for ``seconds`` (0 ends a stall); connections
        stay open."""
        self._stalled_until = trio.current_time() + seconds
        self._stall_changed.set()
        self._stall_changed = trio.Event()

    async def hold_if_stalled(self) -> None:
        """Wait out a stall; forwarders call it before sending each item."""
        while trio.current_time() < self._stalled_until:
            with trio.move_on_at(self._stalled_until):
                await self._stall_changed.wait()
        await trio.lowlevel.checkpoint()

    def drop_all(self) -> None:
        """End every subscription: their connections close."""
        for key in list(self._subscribers):
            self.unsubscribe(key)
