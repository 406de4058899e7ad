"""Faults of the Tradovate front's websockets (``POST /_sim/faults`` with
``"front": "tradovate"``).

Each fault acts on the user sockets (``/v1/websocket``); ``"md": true`` turns
``drop_stream``, ``stall_stream`` and ``shutdown`` onto the market-data sockets instead.

- ``drop_stream``: close every socket now, with no ``c`` frame (a dropped connection).
- ``stall_stream {seconds}``: sockets stay open but send nothing, not even ``h``; then
  what was held back goes out, in order.
- ``duplicate_events {on}``: every ``props`` event is sent twice.
- ``reorder_events {on}``: in one command's list, Trade execution reports and fills are
  sent before the order's ``Created``.
- ``lose_response {count}``: the next ``count`` request answers (not ``authorize``) are
  never sent; the request is still carried out.
- ``delay_acks {ms}``: request answers wait ``ms`` while events keep going out.
- ``shutdown {reasonCode?, reason?}``: the ``shutdown`` event, then a ``c`` frame, then a
  close (``reasonCode`` Maintenance by default).
- ``clear``: all off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

import attrs

from brokers.sim.faults import FaultError
from brokers.sim.tradovate.frames import ShutdownReason
from brokers.sim.tradovate.sockets import Drop, Shutdown, SocketKind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from brokers.sim.tradovate.front import EntityChange
    from brokers.sim.tradovate.sockets import Ending

MAX_STALL_S = 3600.0
MAX_DELAY_MS = 60_000


def fills_before_created(changes: list[EntityChange]) -> list[EntityChange]:
    """The list with its Trade execution reports and fills moved before the first order
    ``Created`` (each group keeps its own order); unchanged when there is no such pair."""
    created = next(
        (
            i
            for i, c in enumerate(changes)
            if c.entity_type == "order" and c.event_type == "Created"
        ),
        None,
    )
    if created is None:
        return changes
    early = [c for c in changes[created:] if _is_fill_news(c)]
    if not early:
        return changes
    rest = [c for c in changes[created:] if not _is_fill_news(c)]
    return changes[:created] + early + rest


def _is_fill_news(change: EntityChange) -> bool:
    if change.entity_type == "fill":
        return change.event_type == "Created"
    return change.entity_type == "executionReport" and change.entity.get("execType") == "Trade"


@attrs.define
class StreamFaults:
    """The armed stream faults. ``act`` does what a fault does at once (end or stall
    sockets); the rest is state the sockets read."""

    _end_sockets: Callable[[SocketKind, Ending], None]
    _stall: Callable[[SocketKind, float], None]
    _duplicate: bool = False
    _reorder: bool = False
    _lose_count: int = 0
    _delay_ms: int = 0

    def configure(self, spec: Mapping[str, Any]) -> bool:
        """Arm (or do) the fault ``spec`` names; False when it names none of these.
        Raises FaultError on a bad parameter."""
        try:
            return self._configure(spec)
        except (KeyError, TypeError, ValueError) as exc:
            raise FaultError(f"invalid fault request: {exc}") from exc

    def _configure(self, spec: Mapping[str, Any]) -> bool:
        kind = SocketKind.MARKET_DATA if spec.get("md") else SocketKind.USER
        match spec.get("fault"):
            case "drop_stream":
                self._end_sockets(kind, Drop())
            case "stall_stream":
                seconds = float(spec["seconds"])
                if not 0 <= seconds <= MAX_STALL_S:
                    raise ValueError("seconds must be within 0..3600")
                self._stall(kind, seconds)
            case "duplicate_events":
                self._duplicate = bool(spec.get("on", True))
            case "reorder_events":
                self._reorder = bool(spec.get("on", True))
            case "lose_response":
                count = int(spec.get("count", 1))
                if count < 0:
                    raise ValueError("count must be >= 0")
                self._lose_count = count
            case "delay_acks":
                ms = int(spec["ms"])
                if not 0 <= ms <= MAX_DELAY_MS:
                    raise ValueError("ms must be within 0..60000")
                self._delay_ms = ms
            case "shutdown":
                self._end_sockets(kind, _shutdown(spec))
            case "clear":
                self.clear()
            case _:
                return False
        return True

    def clear(self) -> None:
        self._duplicate = self._reorder = False
        self._lose_count = self._delay_ms = 0
        for kind in SocketKind:
            self._stall(kind, 0)

    def arrange(self, changes: list[EntityChange]) -> list[EntityChange]:
        """One command's changes as the sockets are to send them."""
        if self._reorder:
            changes = fills_before_created(changes)
        if self._duplicate:
            changes = [c for change in changes for c in (change, change)]
        return changes

    def take_lost_response(self) -> bool:
        """Whether this request's answer is to be lost."""
        if self._lose_count <= 0:
            return False
        self._lose_count -= 1
        return True

    @property
    def ack_delay(self) -> float:
        """Seconds a request's answer waits."""
        return self._delay_ms / 1000


def _shutdown(spec: Mapping[str, Any]) -> Shutdown:
    code = spec.get("reasonCode", "Maintenance")
    if code not in get_args(ShutdownReason):
        raise ValueError(f"reasonCode must be one of {', '.join(get_args(ShutdownReason))}")
    reason = spec.get("reason")
    return Shutdown(code, None if reason is None else str(reason))
