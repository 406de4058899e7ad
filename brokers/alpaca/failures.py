"""Alpaca's failures as tradingd's error tree (``brokers/errors.py``). Pure: no I/O, no clock.

HTTP answer                         raised
429                                 RateLimited (retry_after from Retry-After / X-Ratelimit-Reset)
5xx                                 BrokerUnavailable(request_may_have_arrived=True, status)
401, and 403 on a read (GET)         AuthenticationFailed
404                                 OrderNotFound
other 4xx                           OrderRejected (DuplicateClientOrderId for a reused id;
                                    a 403 on an order is Alpaca's "insufficient buying power")
no answer: connect error/timeout    BrokerUnavailable(request_may_have_arrived=False)
no answer: anything later           BrokerUnavailable(request_may_have_arrived=True)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx
import msgspec

from brokers.alpaca import schemas
from brokers.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    DuplicateClientOrderId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

NO_REASON = "the venue gave no reason"
DUPLICATE_CLIENT_ORDER_ID_CODE = 40010001

# Failures before the request could have left this process: resending cannot duplicate it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_failure(exc: httpx.HTTPError, what: str) -> BrokerUnavailable:
    """No HTTP answer came back. Anything after the connect may have reached the venue."""
    arrived = not isinstance(exc, _NOT_SENT)
    detail = str(exc) or "no detail"
    return BrokerUnavailable(
        f"{what}: {type(exc).__name__}: {detail}", request_may_have_arrived=arrived
    )


def response_failure(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    what: str,
    now: datetime,
    read: bool = False,
) -> BrokerError:
    """The exception for a non-2xx answer. ``now`` is the wall clock, for X-Ratelimit-Reset;
    ``read``: the request was a GET, whose 403 can only mean the keys may not read this."""
    if status == 429:
        return RateLimited(f"{what}: rate limited (429)", retry_after=retry_after(headers, now))
    if status >= 500:
        return BrokerUnavailable(
            f"{what}: venue error (HTTP {status})",
            request_may_have_arrived=True,
            retry_after=retry_after(headers, now),
            status=status,
        )
    code, message, details = read_error_body(body)
    if status == 401 or (status == 403 and read):
        return AuthenticationFailed(
            f"{what}: credentials refused ({status}): {message or NO_REASON}"
        )
    if status == 404:
        return OrderNotFound(f"{what}: {message or 'not found'} (404)")
    if 400 <= status < 500:
        if message is None:
            return OrderRejected(f"{NO_REASON} (HTTP {status})", status=status, code=code)
        rejection = DuplicateClientOrderId if _is_duplicate(code, message) else OrderRejected
        return rejection(message, status=status, code=code, details=details)
    return BrokerError(f"{what}: unexpected HTTP status {status}")


def _is_duplicate(code: int | str | None, message: str) -> bool:
    # The code is seen in third-party clients only, so the message is checked as well.
    return code == DUPLICATE_CLIENT_ORDER_ID_CODE or "must be unique" in message.lower()


def read_error_body(body: bytes) -> tuple[int | str | None, str | None, dict[str, str]]:
    """``(code, message, extras as strings)``; an empty, ``{}`` or non-JSON body has none."""
    try:
        fields = schemas.ERROR_FIELDS.decode(body)
    except msgspec.DecodeError:  # includes ValidationError: JSON, but not an object
        return None, None, {}
    try:
        known = schemas.ERROR_BODY.decode(body)
        code, message = known.code, known.message or None
    except msgspec.ValidationError:
        code, message = None, None
    details = {key: _as_text(raw) for key, raw in fields.items() if key not in ("code", "message")}
    return code, message, details


def _as_text(raw: msgspec.Raw) -> str:
    """A JSON string as its text; any other value as its JSON (numbers keep every digit)."""
    data = bytes(raw)
    if data.startswith(b'"'):
        return msgspec.json.decode(data, type=str)
    return data.decode()


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or ``X-Ratelimit-Reset``
    (epoch seconds); never negative, None when the venue gave no usable hint."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value:
        seconds = _number(value)
        if seconds is not None:
            return max(0.0, seconds)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - now).total_seconds())
    reset = headers.get("x-ratelimit-reset") or headers.get("X-Ratelimit-Reset")
    if reset:
        epoch = _number(reset)
        if epoch is not None:
            return max(0.0, epoch - now.timestamp())
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
