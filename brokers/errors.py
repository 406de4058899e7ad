"""The error tree, drawn once::

    TradingError
     └── BrokerError                  something went wrong talking to a venue
          ├── BrokerUnavailable       retryable: timeout, dropped connection, 5xx, 429
          │    └── RateLimited        the venue asked us to slow down (429, penalty ticket)
          ├── OrderRejected           final: the venue refused the order (4xx with a reason)
          │    └── DuplicateClientOrderId  the venue already has an order with this client id
          ├── OrderNotFound           the venue does not know this order (404)
          └── AuthenticationFailed    credentials refused (401, 403 on a read); never retried

Adapters convert library exceptions (httpx, websockets) into these at the boundary with
``raise ... from exc``; nothing above ``brokers/`` ever sees an httpx exception.
"""

from __future__ import annotations

from decimal import Decimal


class TradingError(Exception):
    """Root of every error tradingd raises on purpose."""


class BrokerError(TradingError):
    """A venue call failed."""


class BrokerUnavailable(BrokerError):
    """A retryable failure.

    ``request_may_have_arrived`` is True when the request left this process and its
    outcome is unknown (read timeout, connection dropped after sending, 5xx): an order
    submit that fails this way must be looked up by ``client_order_id`` before any
    resubmission. ``retry_after`` is the venue's hint in seconds, when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        request_may_have_arrived: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.request_may_have_arrived = request_may_have_arrived
        self.retry_after = retry_after
        self.status = status


class RateLimited(BrokerUnavailable):
    """The venue refused the request for rate: it did not process it."""

    def __init__(self, message: str, *, retry_after: float | None, status: int = 429) -> None:
        super().__init__(
            message, request_may_have_arrived=False, retry_after=retry_after, status=status
        )


class OrderRejected(BrokerError):
    """The venue refused the order; final, never retried as is.

    ``code`` is the venue's numeric or symbolic error code when it sent one (an empty
    body still yields a rejection, with ``code`` None); ``details`` keeps the extra
    fields the venue sent (``buying_power``, ``cost_basis``, ``available`` ...).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | str | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details or {}

    @property
    def is_buying_power(self) -> bool:
        """True when the venue said the account could not afford the order."""
        return "buying power" in str(self).lower()

    def detail_decimal(self, key: str) -> Decimal | None:
        value = self.details.get(key)
        return Decimal(value) if value is not None else None


class DuplicateClientOrderId(OrderRejected):
    """The venue already holds an order with this ``client_order_id``.

    Not a rejection of the trade: an earlier attempt got through. Look the order up.
    """


class OrderNotFound(BrokerError):
    """The venue has no order (or position) by that id."""


class AuthenticationFailed(BrokerError):
    """The venue refused the credentials."""
