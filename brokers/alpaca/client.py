"""``AlpacaBroker``: the ``Broker`` protocol over Alpaca Trading API v2 (REST + stream).

A thin shell: one pooled ``httpx.AsyncClient`` for the broker's life, the wire/domain
conversions in ``mapping``, the error conversions in ``failures``, the stream in ``stream``.
No httpx or websockets exception leaves this package.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Self
from urllib.parse import quote

import attrs
import httpx
import msgspec
import trio

from brokers.alpaca import failures, limits, mapping, schemas
from brokers.alpaca.stream import open_trade_updates
from brokers.base import (
    Account,
    Asset,
    MarketClock,
    OrderListStatus,
    OrderRequest,
    OrderUpdate,
    Position,
    RequestPriority,
    VenueCall,
    VenueOrder,
    utc_now,
)
from brokers.errors import BrokerError, BrokerUnavailable, OrderNotFound

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime
    from types import TracebackType

    from brokers.budget import Slot, VenueBudget

Audit = Callable[[VenueCall], Awaitable[None]]

_JSON_HEADERS = {"Content-Type": "application/json"}
_REDACTED = "[redacted]"
MIN_REDACTED_LENGTH = 8


class AlpacaBroker:
    """``brokers.base.Broker`` for Alpaca and for venues speaking its protocol.

    ``base_url`` has no ``/v2``. ``audit``, when given, is awaited once per REST call with
    a ``VenueCall``; neither it nor any exception or repr carries the credentials.
    ``budget``, when given, paces every REST call (``brokers.budget``); None: unpaced.
    """

    def __init__(
        self,
        *,
        base_url: str,
        stream_url: str,
        key_id: str,
        secret_key: str,
        audit: Audit | None = None,
        budget: VenueBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._stream_url = stream_url
        self._key_id = key_id
        self._secret_key = secret_key
        self._audit = audit
        self._budget = budget
        self._timeout = timeout
        # Searched for in the venue's texts. A very short credential would match ordinary
        # words (and is no secret worth the name): blanking it would garble every message.
        self._credentials = tuple(c for c in (secret_key, key_id) if len(c) >= MIN_REDACTED_LENGTH)
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            headers={"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret_key},
            transport=transport,
            timeout=timeout,
            # Every connection may stay pooled. httpcore (1.0.9) closes each connection that
            # turns idle while the pool holds more than max_keepalive_connections in total,
            # busy ones included: with httpx's default of 20, one symbol with 20 slow answers
            # outstanding made every other symbol's order open a new TCP connection.
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
        )

    def __repr__(self) -> str:
        return f"AlpacaBroker(base_url={self._base_url!r}, stream_url={self._stream_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- orders ---------------------------------------------------------------------------

    async def submit_order(
        self, request: OrderRequest, *, priority: RequestPriority = RequestPriority.NEW_ORDER
    ) -> VenueOrder:
        # The hot path: one encode, one POST, one decode straight into the wire Struct.
        response = await self._send(
            "POST",
            "/v2/orders",
            priority,
            body=mapping.order_body(request),
            symbol=request.symbol,
        )
        try:
            return mapping.venue_order(schemas.ORDER.decode(response.content))
        except (msgspec.DecodeError, mapping.UnreadablePayload) as exc:
            raise _unreadable("POST /v2/orders", exc) from exc

    async def get_order(self, venue_order_id: str) -> VenueOrder:
        response = await self._send(
            "GET",
            f"/v2/orders/{quote(venue_order_id, safe='')}",
            RequestPriority.LOOKUP,
            one_order=True,
        )
        return _read_order(response, "GET /v2/orders/{id}")

    async def get_order_by_client_id(self, client_order_id: str) -> VenueOrder | None:
        """None on 404: the venue never received an order with this id."""
        try:
            response = await self._send(
                "GET",
                "/v2/orders:by_client_order_id",
                RequestPriority.LOOKUP,
                params={"client_order_id": client_order_id},
                one_order=True,
            )
        except OrderNotFound:
            return None
        return _read_order(response, "GET /v2/orders:by_client_order_id")

    async def cancel_order(self, venue_order_id: str) -> None:
        # Cancels always go first: each takes risk off (or makes way for a close).
        path = f"/v2/orders/{quote(venue_order_id, safe='')}"
        await self._send("DELETE", path, RequestPriority.PROTECTIVE)

    async def list_orders(
        self,
        *,
        status: OrderListStatus = "open",
        after: datetime | None = None,
        limit: int = 500,
        nested: bool = True,
    ) -> list[VenueOrder]:
        """Oldest first; bracket legs nested under their parent unless ``nested`` is off."""
        params = {"status": status, "limit": str(limit)}
        if after is not None:
            params["after"] = mapping.rfc3339(after)
        params |= {"direction": "asc", "nested": "true" if nested else "false"}
        response = await self._send("GET", "/v2/orders", RequestPriority.RECONCILE, params=params)
        try:
            return [mapping.venue_order(o) for o in schemas.ORDERS.decode(response.content)]
        except (msgspec.DecodeError, mapping.UnreadablePayload) as exc:
            raise _unreadable("GET /v2/orders", exc) from exc

    # --- account --------------------------------------------------------------------------

    async def list_positions(self) -> list[Position]:
        response = await self._send("GET", "/v2/positions", RequestPriority.RECONCILE)
        try:
            return [mapping.position(p) for p in schemas.POSITIONS.decode(response.content)]
        except msgspec.DecodeError as exc:
            raise _unreadable("GET /v2/positions", exc) from exc

    async def get_account(self) -> Account:
        response = await self._send("GET", "/v2/account", RequestPriority.RECONCILE)
        try:
            return mapping.account(schemas.ACCOUNT.decode(response.content))
        except msgspec.DecodeError as exc:
            raise _unreadable("GET /v2/account", exc) from exc

    async def get_clock(self) -> MarketClock:
        response = await self._send("GET", "/v2/clock", RequestPriority.RECONCILE)
        try:
            return mapping.market_clock(schemas.CLOCK.decode(response.content))
        except msgspec.DecodeError as exc:
            raise _unreadable("GET /v2/clock", exc) from exc

    async def list_assets(self) -> list[Asset]:
        response = await self._send(
            "GET", "/v2/assets", RequestPriority.RECONCILE, params={"status": "active"}
        )
        try:
            return [mapping.asset(a) for a in schemas.ASSETS.decode(response.content)]
        except msgspec.DecodeError as exc:
            raise _unreadable("GET /v2/assets", exc) from exc

    # --- stream ---------------------------------------------------------------------------

    def order_updates(self) -> AbstractAsyncContextManager[AsyncIterator[OrderUpdate]]:
        return open_trade_updates(
            self._stream_url,
            key_id=self._key_id,
            secret_key=self._secret_key,
            open_timeout=self._timeout,
        )

    # --- the one door to the network --------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        priority: RequestPriority,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        symbol: str | None = None,
        one_order: bool = False,
    ) -> httpx.Response:
        """One REST call: a 2xx response, or the ``BrokerError`` it amounts to; audited with
        ``symbol``, or (``one_order``) the symbol of the order the venue answers with;
        paced by the budget at ``priority``, and the budget told what the venue said."""
        call = _Call(method, path, params, body, symbol, one_order)
        if self._budget is None:
            return await self._request(call, None)
        async with self._budget.slot(priority) as slot:
            return await self._request(call, slot)

    async def _request(self, call: _Call, slot: Slot | None) -> httpx.Response:
        method, path, params, body = call.method, call.path, call.params, call.body
        started = trio.current_time()
        try:
            response = await self._client.request(
                method,
                path,
                params=params,
                content=body,
                headers=_JSON_HEADERS if body is not None else None,
            )
        except httpx.HTTPError as exc:
            lost = failures.transport_failure(exc, f"{method} {path}")
            if slot is not None and not lost.request_may_have_arrived:
                slot.not_sent()
            if self._leaks(str(lost)):
                lost = BrokerUnavailable(
                    self._redact(str(lost)), request_may_have_arrived=lost.request_may_have_arrived
                )
            await self._record(call, started, None, lost)
            raise lost from exc
        if slot is not None:
            slot.heard(*limits.corrections(response.status_code, response.headers, utc_now()))
        if response.is_success:
            await self._record(call, started, response, None)
            return response
        # The venue's words become exception text: a credential it echoes is blanked first.
        answer = response.content
        if self._leaks(answer):
            answer = self._redact(answer.decode("utf-8", "replace")).encode()
        failure = failures.response_failure(
            response.status_code,
            answer,
            response.headers,
            what=f"{method} {path}",
            now=utc_now(),
            read=method == "GET",
        )
        await self._record(call, started, response, failure)
        raise failure

    async def _record(
        self,
        call: _Call,
        started: float,
        response: httpx.Response | None,
        failure: BrokerError | None,
    ) -> None:
        if self._audit is None:
            return
        latency = trio.current_time() - started
        path = call.path
        if call.params:
            path = f"{path}?{httpx.QueryParams(call.params)}"
        symbol = call.symbol
        if symbol is None and call.one_order and response is not None and response.is_success:
            symbol = _symbol_of_order(response.content)
        await self._audit(
            VenueCall(
                method=call.method,
                path=path,
                status=None if response is None else response.status_code,
                latency_s=latency,
                at=utc_now(),
                symbol=symbol,
                # Request bodies are built here from OrderRequests: they hold no credentials.
                request_body=None if call.body is None else call.body.decode(),
                response_body=(
                    None
                    if response is None or not response.content
                    else self._redact(response.content.decode("utf-8", "replace"))
                ),
                error=None if failure is None else self._redact(str(failure)),
            )
        )

    def _leaks(self, text: str | bytes) -> bool:
        if isinstance(text, bytes):
            return any(c.encode() in text for c in self._credentials)
        return any(c in text for c in self._credentials)

    def _redact(self, text: str) -> str:
        """A venue that echoes a credential back must not get it into the journal."""
        for credential in self._credentials:
            if credential in text:
                text = text.replace(credential, _REDACTED)
        return text


@attrs.frozen
class _Call:
    """What one REST call was, for its audit row."""

    method: str
    path: str
    params: Mapping[str, str] | None
    body: bytes | None
    symbol: str | None
    one_order: bool


class _OrderSymbol(msgspec.Struct):
    symbol: str | None = None


_order_symbol = msgspec.json.Decoder(_OrderSymbol)


def _symbol_of_order(content: bytes) -> str | None:
    """The symbol of the one order a response holds (the audit row's; the caller decodes
    the order itself, and a body it cannot read is its error to raise, not the audit's)."""
    try:
        return _order_symbol.decode(content).symbol or None
    except msgspec.DecodeError:
        return None


def _read_order(response: httpx.Response, what: str) -> VenueOrder:
    try:
        return mapping.venue_order(schemas.ORDER.decode(response.content))
    except (msgspec.DecodeError, mapping.UnreadablePayload) as exc:
        raise _unreadable(what, exc) from exc


def _unreadable(what: str, exc: Exception) -> BrokerError:
    return BrokerError(f"{what}: the venue's answer is unreadable: {exc}")
