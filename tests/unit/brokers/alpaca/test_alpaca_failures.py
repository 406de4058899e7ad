"""Alpaca error answers and transport failures become the right ``brokers.errors`` exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest

from brokers.alpaca.failures import response_failure, retry_after, transport_failure
from brokers.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    DuplicateClientOrderId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def fail(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> BrokerError:
    return response_failure(
        status, body, httpx.Headers(headers or {}), what="POST /v2/orders", now=NOW
    )


def test_insufficient_buying_power_is_a_rejection_with_its_extras() -> None:
    """403 with code and extras: OrderRejected keeping code, message and extras as strings."""
    exc = fail(
        403,
        b'{"code":40310000,"message":"insufficient buying power",'
        b'"buying_power":"176531.28","cost_basis":"48640000"}',
    )
    assert type(exc) is OrderRejected
    assert (exc.status, exc.code, str(exc)) == (403, 40310000, "insufficient buying power")
    assert exc.details == {"buying_power": "176531.28", "cost_basis": "48640000"}
    assert exc.is_buying_power
    assert exc.detail_decimal("buying_power") == Decimal("176531.28")


def test_extras_that_are_not_strings_keep_their_json_text() -> None:
    """Numbers keep every digit and lists stay JSON, so details are always strings."""
    exc = fail(
        403,
        b'{"code":40310000,"message":"insufficient qty available for order",'
        b'"available":"5","existing_qty":10,"held_for_orders":5.50,"related_orders":["a","b"]}',
    )
    assert isinstance(exc, OrderRejected)
    assert exc.details == {
        "available": "5",
        "existing_qty": "10",
        "held_for_orders": "5.50",
        "related_orders": '["a","b"]',
    }


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (422, b'{"code":42210000,"message":"invalid limit_price 290.123. sub-penny"}', 42210000),
        (400, b'{"code":40010000,"message":"request body format is invalid"}', 40010000),
        (403, b'{"code":40310000,"message":"account is not allowed to short"}', 40310000),
    ],
)
def test_client_errors_with_a_reason_are_rejections(status: int, body: bytes, code: int) -> None:
    """400, 403 and 422 with a body become OrderRejected with the venue's code."""
    exc = fail(status, body)
    assert type(exc) is OrderRejected
    assert (exc.status, exc.code) == (status, code)


@pytest.mark.parametrize(
    "body",
    [
        b'{"code":40010001,"message":"client_order_id must be unique"}',
        b'{"code":42210000,"message":"client_order_id must be unique"}',
    ],
)
def test_a_reused_client_order_id_is_a_duplicate(body: bytes) -> None:
    """The duplicate-id code or message raises DuplicateClientOrderId, an OrderRejected."""
    exc = fail(422, body)
    assert type(exc) is DuplicateClientOrderId
    assert isinstance(exc, OrderRejected)


@pytest.mark.parametrize("body", [b"", b"{}", b"<html>Bad Gateway</html>", b"[]", b'{"code":1.5}'])
def test_a_rejection_without_a_reason_says_so(body: bytes) -> None:
    """An empty, {} or non-JSON body still rejects, with code None and a plain message."""
    exc = fail(403, body)
    assert type(exc) is OrderRejected
    assert exc.code is None
    assert exc.details == {}
    assert "the venue gave no reason" in str(exc)


def test_401_is_an_authentication_failure() -> None:
    """401 means the credentials were refused."""
    exc = fail(401, b'{"message":"unauthorized"}')
    assert type(exc) is AuthenticationFailed
    assert "unauthorized" in str(exc)


def test_404_is_order_not_found() -> None:
    """404 means the venue has no such order."""
    exc = fail(404, b'{"code":40410000,"message":"order not found"}')
    assert type(exc) is OrderNotFound
    assert "order not found" in str(exc)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable_with_an_unknown_outcome(status: int) -> None:
    """5xx: BrokerUnavailable, the request may have arrived, status kept."""
    exc = fail(status, b"<html>oops</html>")
    assert type(exc) is BrokerUnavailable
    assert (exc.request_may_have_arrived, exc.status) == (True, status)


def test_429_is_rate_limited_with_retry_after_seconds() -> None:
    """429 with Retry-After: RateLimited, not processed, wait that long."""
    exc = fail(429, b"", {"Retry-After": "3"})
    assert type(exc) is RateLimited
    assert (exc.retry_after, exc.request_may_have_arrived, exc.status) == (3.0, False, 429)


def test_429_reads_the_reset_epoch_against_now() -> None:
    """X-Ratelimit-Reset is epoch seconds: the wait is its distance from now."""
    reset = NOW + timedelta(seconds=12)
    exc = fail(429, b"", {"X-Ratelimit-Reset": str(int(reset.timestamp()))})
    assert isinstance(exc, RateLimited)
    assert exc.retry_after == 12.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Ratelimit-Reset": str(int((NOW - timedelta(seconds=5)).timestamp()))}, 0.0),
        ({"Retry-After": "-4"}, 0.0),
        ({"Retry-After": format_datetime(NOW + timedelta(seconds=30), usegmt=True)}, 30.0),
        ({"Retry-After": "soon", "X-Ratelimit-Reset": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_never_negative_and_none_without_a_hint(
    headers: dict[str, str], expected: float | None
) -> None:
    """A reset in the past waits 0; an HTTP date counts from now; garbage gives None."""
    assert retry_after(httpx.Headers(headers), NOW) == expected


def test_an_unexpected_status_is_a_plain_broker_error() -> None:
    """A redirect is not something the adapter follows: a BrokerError names the status."""
    exc = fail(302)
    assert type(exc) is BrokerError
    assert "302" in str(exc)


REQUEST = httpx.Request("POST", "http://127.0.0.1/v2/orders")


@pytest.mark.parametrize(
    ("error", "arrived"),
    [
        (httpx.ConnectError("refused", request=REQUEST), False),
        (httpx.ConnectTimeout("slow connect", request=REQUEST), False),
        (httpx.PoolTimeout("no connection free", request=REQUEST), False),
        (httpx.ReadTimeout("slow answer", request=REQUEST), True),
        (httpx.WriteTimeout("slow send", request=REQUEST), True),
        (httpx.ReadError("reset by peer", request=REQUEST), True),
        (httpx.RemoteProtocolError("server disconnected", request=REQUEST), True),
    ],
)
def test_transport_failures_say_whether_the_request_may_have_arrived(
    error: httpx.HTTPError, arrived: bool
) -> None:
    """Connect failures never reached the venue; anything later may have."""
    exc = transport_failure(error, "POST /v2/orders")
    assert type(exc) is BrokerUnavailable
    assert exc.request_may_have_arrived is arrived
    assert str(exc).startswith("POST /v2/orders: ")
    assert type(error).__name__ in str(exc)


def test_a_403_on_a_read_is_refused_credentials_and_on_an_order_a_rejection() -> None:
    """GET answered 403: AuthenticationFailed (never retried); an order's 403 stays a rejection."""
    body = b'{"code":40310000,"message":"forbidden"}'
    read = response_failure(
        403, body, httpx.Headers({}), what="GET /v2/account", now=NOW, read=True
    )
    assert type(read) is AuthenticationFailed
    assert "(403)" in str(read)
    assert type(fail(403, body)) is OrderRejected


def test_a_401_on_a_read_is_refused_credentials() -> None:
    """GET answered 401: AuthenticationFailed."""
    read = response_failure(401, b"", httpx.Headers({}), what="GET /v2/assets", now=NOW, read=True)
    assert type(read) is AuthenticationFailed
