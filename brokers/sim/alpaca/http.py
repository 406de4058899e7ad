"""HTTP pieces of the venue's REST front: JSON answers, canned and dropped responses, and
reading bodies and query values with Alpaca's refusals."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.responses import Response

from brokers.sim.alpaca.requests import malformed
from brokers.sim.core.orders import unprocessable

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from brokers.sim.faults import CannedResponse

MAX_BODY_BYTES = 16 * 1024
QTY_QUANTUM = Decimal("0.000000001")


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        msgspec.json.encode(payload),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def canned(answer: CannedResponse) -> Response:
    if answer.body is None:
        return Response(b"", status_code=answer.status, headers=answer.headers)
    return json_response(answer.body, answer.status, answer.headers)


class DroppedResponse(Response):
    """Starts a response and stops: the connection closes before the body is complete."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = "endpoint not found" if status == 404 else HTTPStatus(status).phrase.lower()
    return json_response({"code": status * 100000, "message": message}, status)


async def read_body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise malformed()
    return body


def query_day(text: str | None, default: date, name: str) -> date:
    if text is None:
        return default
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise unprocessable(f"invalid {name}") from None


def close_qty(request: Request, held: Decimal) -> Decimal | None:
    qty, percentage = request.query_params.get("qty"), request.query_params.get("percentage")
    try:
        if qty is not None:
            return Decimal(qty)
        if percentage is not None:
            share = held * Decimal(percentage) / 100
            return share.quantize(QTY_QUANTUM, rounding=ROUND_DOWN)
    except InvalidOperation:
        raise unprocessable("invalid qty or percentage") from None
    return None
