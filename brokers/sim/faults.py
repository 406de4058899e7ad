"""Faults the paper venue can be told to produce, for tests of the daemon's recovery.

Pure bookkeeping: the REST and stream shells ask this plan what to do with each request
or event. Configured by ``POST /_sim/faults`` with ``{"fault": NAME, ...}``:

- ``drop_stream``: close every ``trade_updates`` connection now.
- ``duplicate_events``: send every stream event twice (``{"on": false}`` turns it off).
- ``http_status {status, count, retry_after?}``: the next ``count`` REST requests answer
  ``status`` without reaching the matching core (a 429 carries the rate-limit headers;
  ``retry_after`` seconds add a ``Retry-After`` header to any status).
- ``stall_rest {seconds, count}``: the next ``count`` REST requests are answered only after
  ``seconds`` (a venue that has stopped answering, for a client's timeout to catch).
- ``rest_latency {ms}``: every REST request waits half of ``ms`` before the venue handles
  it and half after, as across a network: what the venue answers is its state at an
  instant inside the request, and stream events keep flowing meanwhile (``{"ms": 0}``: off).
- ``reject_next {code?, message?, status?, count}``: the next ``count`` order submissions
  are refused with that body; ``{}`` when code and message are both omitted.
- ``lose_response {count}``: the next ``count`` order submissions reach the core, then the
  connection drops before the answer is complete.
- ``stall_stream {seconds}``: ``trade_updates`` connections stay open but send nothing for
  ``seconds``; then what was held back is delivered, in order.
- ``reorder_events``: an order's fill is streamed before its ``new`` when both come from
  one request or price move (``{"on": false}`` turns it off).
- ``miss_bracket_cancel``: when an exit of a bracket (or oco, oto) fills, the venue still
  cancels its sibling but does not stream that ``canceled`` event (``{"on": false}``: off).
- ``delay_acks {ms, symbol?}``: order acknowledgements (for ``symbol``, or all) wait ``ms``
  after the order was processed, so its stream events arrive first.
- ``drop_fills {count}``: the next ``count`` fill (or partial fill) events are not streamed;
  the venue's order and position still show them, as when a broker's stream loses one.
- ``reject_after_accept {count}``: the next ``count`` order submissions are answered as
  accepted, then streamed ``rejected`` instead of ``new``; they never work.
- ``pending_new``, ``pending_cancel``, ``pending_replace``: the stream shows that pending
  state before ``new`` (or ``rejected``), ``canceled``, ``replaced`` (``{"on": false}``: off).
  ``pending_cancel {ms}``: a DELETE of one working order leaves it ``pending_cancel`` for
  ``ms``, still able to fill; then it is canceled, or ``order_cancel_rejected`` if it filled.
- ``done_for_day``: at each session close, working ``gtc`` orders are ``done_for_day`` and
  rest until the next open (``{"on": false}``: off).
- ``clear``: back to normal.
"""

from __future__ import annotations

import enum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import attrs

from brokers.sim.alpaca.events import PendingStates

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

RATE_LIMIT = 200


class FaultError(ValueError):
    """A fault request the venue does not understand."""


class Immediate(enum.Enum):
    """Something a fault asks the shell to do right away."""

    NOTHING = "nothing"
    DROP_STREAM = "drop_stream"
    STALL_STREAM = "stall_stream"


@attrs.frozen
class CannedResponse:
    """An answer that replaces the venue's own: status, JSON body (None: empty), headers."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = attrs.field(factory=dict)


@attrs.define
class FaultPlan:
    _duplicate_events: bool = False
    _http_status: int = 0
    _http_count: int = 0
    _http_retry_after: int | None = None
    _stall_rest_s: float = 0.0
    _stall_rest_count: int = 0
    _rest_latency_s: float = 0.0
    _reject: CannedResponse | None = None
    _reject_count: int = 0
    _lose_count: int = 0
    _delay_s: float = 0.0
    _delay_symbol: str | None = None
    _reorder_events: bool = False
    _miss_bracket_cancel: bool = False
    _stall_seconds: float = 0.0
    _drop_fills: int = 0

    _reject_after_accept_count: int = 0
    _pending: PendingStates = attrs.field(factory=PendingStates)
    _done_for_day: bool = False
    _cancel_delay_s: float = 0.0

    def configure(self, spec: Mapping[str, Any]) -> Immediate:
        """Arm one fault; raises FaultError on a request it cannot read."""
        try:
            return self._configure(spec)
        except (KeyError, TypeError, ValueError) as exc:
            raise FaultError(f"invalid fault request: {exc}") from exc

    def _configure(self, spec: Mapping[str, Any]) -> Immediate:
        match spec.get("fault"):
            case "drop_stream":
                return Immediate.DROP_STREAM
            case "stall_stream":
                seconds = float(spec["seconds"])
                if not 0 <= seconds <= 3600:
                    raise ValueError("seconds must be within 0..3600")
                self._stall_seconds = seconds
                return Immediate.STALL_STREAM
            case "reorder_events":
                self._reorder_events = bool(spec.get("on", True))
            case "miss_bracket_cancel":
                self._miss_bracket_cancel = bool(spec.get("on", True))
            case "duplicate_events":
                self._duplicate_events = bool(spec.get("on", True))
            case "http_status":
                status = int(spec["status"])
                if not 400 <= status <= 599:
                    raise ValueError(f"status {status} is not an error status")
                self._http_status, self._http_count = status, _count(spec)
                retry_after = spec.get("retry_after")
                self._http_retry_after = None if retry_after is None else int(retry_after)
                if self._http_retry_after is not None and not 0 <= self._http_retry_after <= 3600:
                    raise ValueError("retry_after must be within 0..3600")
            case "stall_rest":
                seconds = float(spec["seconds"])
                if not 0 <= seconds <= 3600:
                    raise ValueError("seconds must be within 0..3600")
                self._stall_rest_s, self._stall_rest_count = seconds, _count(spec)
            case "rest_latency":
                ms = float(spec["ms"])
                if not 0 <= ms <= 60_000:
                    raise ValueError("ms must be within 0..60000")
                self._rest_latency_s = ms / 1000
            case "reject_next":
                body = {k: spec[k] for k in ("code", "message") if k in spec}
                self._reject = CannedResponse(int(spec.get("status", 403)), body)
                self._reject_count = _count(spec)
            case "drop_fills":
                self._drop_fills = _count(spec)
            case "lose_response":
                self._lose_count = _count(spec)
            case "delay_acks":
                self._delay_s = int(spec["ms"]) / 1000
                symbol = spec.get("symbol")
                self._delay_symbol = str(symbol).upper() if symbol else None
            case "reject_after_accept":
                self._reject_after_accept_count = _count(spec)
            case "pending_new":
                self._pending = attrs.evolve(self._pending, new=bool(spec.get("on", True)))
            case "pending_cancel":
                ms = int(spec.get("ms", 0))
                if not 0 <= ms <= 3_600_000:
                    raise ValueError("ms must be within 0..3600000")
                on = bool(spec.get("on", True))
                self._pending = attrs.evolve(self._pending, cancel=on)
                self._cancel_delay_s = ms / 1000 if on else 0.0
            case "pending_replace":
                self._pending = attrs.evolve(self._pending, replace=bool(spec.get("on", True)))
            case "done_for_day":
                self._done_for_day = bool(spec.get("on", True))
            case "clear":
                fresh = FaultPlan()
                for field in attrs.fields(FaultPlan):
                    setattr(self, field.name, getattr(fresh, field.name))
            case other:
                raise ValueError(f"unknown fault {other!r}")
        return Immediate.NOTHING

    @property
    def duplicate_events(self) -> bool:
        return self._duplicate_events

    @property
    def reorder_events(self) -> bool:
        return self._reorder_events

    @property
    def miss_bracket_cancel(self) -> bool:
        return self._miss_bracket_cancel

    @property
    def pending_states(self) -> PendingStates:
        return self._pending

    @property
    def done_for_day(self) -> bool:
        return self._done_for_day

    @property
    def cancel_delay(self) -> float:
        """Seconds a requested cancel stays pending (0: it is done at once)."""
        return self._cancel_delay_s

    @property
    def stall_seconds(self) -> float:
        """How long the last ``stall_stream`` asked the stream to hold its events."""
        return self._stall_seconds

    def take_http_status(self, now: datetime) -> CannedResponse | None:
        """The canned answer for this REST request, if an ``http_status`` fault is armed."""
        if self._http_count <= 0:
            return None
        self._http_count -= 1
        status = self._http_status
        headers = {}
        if self._http_retry_after is not None:
            headers["Retry-After"] = str(self._http_retry_after)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            headers |= {
                "X-Ratelimit-Limit": str(RATE_LIMIT),
                "X-Ratelimit-Remaining": "0",
                "X-Ratelimit-Reset": str(int(now.timestamp()) + 1),
            }
            return CannedResponse(
                status, {"code": 42910000, "message": "rate limit exceeded"}, headers
            )
        phrase = HTTPStatus(status).phrase.lower()
        return CannedResponse(status, {"code": status * 100000, "message": phrase}, headers)

    def take_rest_stall(self) -> float:
        """Seconds this REST request waits before it is answered (0: none)."""
        if self._stall_rest_count <= 0:
            return 0.0
        self._stall_rest_count -= 1
        return self._stall_rest_s

    @property
    def rest_latency(self) -> float:
        """Seconds every REST request takes, half on the way in, half on the way out."""
        return self._rest_latency_s

    def take_rejection(self) -> CannedResponse | None:
        """The canned refusal for this order submission, if ``reject_next`` is armed."""
        if self._reject_count <= 0 or self._reject is None:
            return None
        self._reject_count -= 1
        return self._reject

    def take_dropped_fill(self) -> bool:
        """Whether this fill event is to go unstreamed (``drop_fills``)."""
        if self._drop_fills <= 0:
            return False
        self._drop_fills -= 1
        return True

    def take_reject_after_accept(self) -> bool:
        """Whether this order submission is to be accepted, then rejected."""
        if self._reject_after_accept_count <= 0:
            return False
        self._reject_after_accept_count -= 1
        return True

    def take_lost_response(self) -> bool:
        """Whether the answer to this order submission is to be lost."""
        if self._lose_count <= 0:
            return False
        self._lose_count -= 1
        return True

    def ack_delay(self, symbol: str) -> float:
        """Seconds to hold back the acknowledgement of an order in ``symbol``."""
        if self._delay_symbol is not None and self._delay_symbol != symbol:
            return 0.0
        return self._delay_s


def _count(spec: Mapping[str, Any]) -> int:
    count = int(spec.get("count", 1))
    if count < 0:
        raise ValueError("count must be >= 0")
    return count
