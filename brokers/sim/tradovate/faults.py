"""Faults of the Tradovate front's REST side (pure bookkeeping; the shells ask it).

Armed by ``POST /_sim/faults`` with ``"front": "tradovate"``:

- ``p_ticket {count, seconds?, captcha?}``: the next ``count`` requests get a penalty body
  (HTTP 200 ``{"p-ticket", "p-time", "p-captcha"?}``); the same request sent again with
  that ``p-ticket`` after ``p-time`` seconds goes through, earlier it gets another ticket.
- ``http_status {status: 429|423, count}``: the next ``count`` requests answer ``status``
  with an empty body, reaching nothing.
- ``expire_tokens``: every current token expires now; ``revoke_tokens``: every session
  ends and its tokens stop working.
- ``strategy_disabled {on}``: ``startorderstrategy`` and ``placeoso`` fail with
  "Order strategy is disabled".
- ``reject_next {count, body?}``: the next ``count`` order commands answer ``body``
  (``{}`` when omitted) and reach nothing.
- ``lose_response {count}``: the next ``count`` order commands reach the core, then the
  connection drops before the answer.
- ``delay_acks {ms}``: order command answers wait ``ms`` after the entity events went out.
- ``clear``: back to normal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from brokers.sim.faults import CannedResponse, FaultError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from brokers.sim.tradovate.tokens import TokenBook

DEFAULT_PENALTY_S = 19
STATUSES = (423, 429)


@attrs.define
class RestFaults:
    _tokens: TokenBook
    _clock: Callable[[], datetime]
    _penalty_count: int = 0
    _penalty_s: int = DEFAULT_PENALTY_S
    _penalty_captcha: bool = False
    _status: int = 0
    _status_count: int = 0
    _strategy_disabled: bool = False
    _reject_count: int = 0
    _reject_body: dict[str, Any] = attrs.field(factory=dict)
    _lose_count: int = 0
    _delay_s: float = 0.0

    def configure(self, spec: Mapping[str, Any]) -> bool:
        """Arm a fault; False: not one of this front's REST faults. FaultError on bad
        parameters."""
        try:
            return self._configure(spec)
        except (KeyError, TypeError, ValueError) as exc:
            raise FaultError(f"invalid fault request: {exc}") from exc

    def _configure(self, spec: Mapping[str, Any]) -> bool:
        match spec.get("fault"):
            case "p_ticket":
                self._penalty_count = _count(spec)
                self._penalty_s = int(spec.get("seconds", DEFAULT_PENALTY_S))
                if not 0 <= self._penalty_s <= 3600:
                    raise ValueError("seconds must be within 0..3600")
                self._penalty_captcha = bool(spec.get("captcha", False))
            case "http_status":
                status = int(spec["status"])
                if status not in STATUSES:
                    raise ValueError(f"status must be one of {STATUSES}")
                self._status, self._status_count = status, _count(spec)
            case "expire_tokens":
                self._tokens.expire_all(self._clock())
            case "revoke_tokens":
                self._tokens.revoke_all()
            case "strategy_disabled":
                self._strategy_disabled = bool(spec.get("on", True))
            case "reject_next":
                body = spec.get("body", {})
                if not isinstance(body, dict):
                    raise TypeError("body must be a JSON object")
                self._reject_body, self._reject_count = dict(body), _count(spec)
            case "lose_response":
                self._lose_count = _count(spec)
            case "delay_acks":
                ms = int(spec["ms"])
                if not 0 <= ms <= 600_000:
                    raise ValueError("ms must be within 0..600000")
                self._delay_s = ms / 1000
            case "clear":
                self.clear()
            case _:
                return False
        return True

    def clear(self) -> None:
        fresh = RestFaults(self._tokens, self._clock)
        for field in attrs.fields(RestFaults):
            setattr(self, field.name, getattr(fresh, field.name))

    def take_penalty(self) -> tuple[int, bool] | None:
        """(p-time, captcha) of the penalty this request gets, if ``p_ticket`` is armed."""
        if self._penalty_count <= 0:
            return None
        self._penalty_count -= 1
        return self._penalty_s, self._penalty_captcha

    def take_status(self) -> CannedResponse | None:
        if self._status_count <= 0:
            return None
        self._status_count -= 1
        return CannedResponse(self._status, None)

    @property
    def strategy_disabled(self) -> bool:
        return self._strategy_disabled

    def take_rejection(self) -> dict[str, Any] | None:
        if self._reject_count <= 0:
            return None
        self._reject_count -= 1
        return dict(self._reject_body)

    def take_lost_response(self) -> bool:
        if self._lose_count <= 0:
            return False
        self._lose_count -= 1
        return True

    @property
    def ack_delay(self) -> float:
        return self._delay_s


def _count(spec: Mapping[str, Any]) -> int:
    count = int(spec.get("count", 1))
    if count < 0:
        raise ValueError("count must be >= 0")
    return count
