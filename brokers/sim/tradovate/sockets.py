"""The Tradovate front's open sockets, so the venue can end them from outside.

A socket is ended by a fault (``drop_stream``, ``shutdown``) or because the session of the
token it was authorized with ended (a third login closed it, or the tokens were revoked).
Each connection registers an ``Ending`` callback; what it does with the request is its own
business (``connection``).
"""

from __future__ import annotations

import enum
import itertools
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable

    from brokers.sim.tradovate.frames import ShutdownReason


class SocketKind(enum.Enum):
    USER = "user"  # /v1/websocket
    MARKET_DATA = "md"  # /md/v1/websocket


@attrs.frozen
class Drop:
    """Close now, mid-stream, with nothing more sent (a dropped connection)."""


@attrs.frozen
class Shutdown:
    """The ``shutdown`` event, then a ``c`` frame and a close."""

    reason_code: ShutdownReason
    reason: str | None = None


@attrs.frozen
class SessionEnded:
    """The token's session is over: a ``c`` frame and a close."""


Ending = Drop | Shutdown | SessionEnded


@attrs.define
class _Entry:
    kind: SocketKind
    end: Callable[[Ending], None]
    token: str | None = None


@attrs.define
class SocketRegistry:
    _entries: dict[int, _Entry] = attrs.field(factory=dict)
    _ids: itertools.count[int] = attrs.field(factory=itertools.count)

    def add(self, kind: SocketKind, end: Callable[[Ending], None]) -> int:
        key = next(self._ids)
        self._entries[key] = _Entry(kind, end)
        return key

    def authorized(self, key: int, token: str) -> None:
        """Note the token socket ``key`` was authorized with."""
        if key in self._entries:
            self._entries[key].token = token

    def remove(self, key: int) -> None:
        self._entries.pop(key, None)

    def count(self, kind: SocketKind) -> int:
        return sum(1 for e in self._entries.values() if e.kind is kind)

    def end_all(self, kind: SocketKind, ending: Ending) -> None:
        for entry in list(self._entries.values()):
            if entry.kind is kind:
                entry.end(ending)

    def end_token(self, token: str) -> None:
        """End every socket authorized with ``token`` (either kind)."""
        for entry in list(self._entries.values()):
            if entry.token == token:
                entry.end(SessionEnded())
