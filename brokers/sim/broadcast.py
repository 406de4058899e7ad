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

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> tuple[int, trio.MemoryReceiveChannel[T]]:
        send, receive = trio.open_memory_channel[T](SUBSCRIBER_BUFFER)
        key = next(self._ids)
        self._subscribers[key] = send
        return key, receive

    def unsubscribe(self, key: int) -> None:
        send = self._subscribers.pop(key, None)
        if send is not None:
            send.close()

    def publish(self, item: T) -> None:
        for key, send in list(self._subscribers.items()):
            try:
                send.send_nowait(item)
            except (trio.WouldBlock, trio.BrokenResourceError):
                self.unsubscribe(key)

    def drop_all(self) -> None:
        """End every subscription: their connections close."""
        for key in list(self._subscribers):
            self.unsubscribe(key)
