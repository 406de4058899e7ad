"""The Tradovate front's HTTP routes: ``/v1/{endpoint}`` (mounted into the venue's REST
app), each answered by ``api.call``; lost responses and delayed acks happen here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import trio
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from brokers.sim.alpaca.http import MAX_BODY_BYTES, DroppedResponse, json_response
from brokers.sim.tradovate.api import ORDER_COMMANDS, call, canonical_endpoint

if TYPE_CHECKING:
    from starlette.requests import Request

    from brokers.sim.tradovate.front import TradovateFront


def build_tradovate_app(front: TradovateFront, catch_up: Any) -> Starlette:
    """The ASGI app of ``/v1``; ``catch_up`` lets the venue apply what its time passed."""

    async def endpoint(request: Request) -> Response:
        catch_up()
        name = canonical_endpoint(request.path_params["endpoint"])
        raw = await request.body()
        body: Any = None
        if raw:
            if len(raw) > MAX_BODY_BYTES:
                return json_response({"errorText": "request body too large"}, 413)
            try:
                body = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                return json_response({"errorText": "malformed JSON body"}, 400)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        peer = request.client.host if request.client is not None else ""
        command = name in ORDER_COMMANDS
        status, answer = await call(
            front, name, dict(request.query_params), body, token=token, peer=peer
        )
        # Only an answer of a command the venue carried out is lost: one refused before the
        # core (401, 429, a penalty ticket) leaves the fault armed for the next.
        carried_out = status == 200 and not (isinstance(answer, dict) and "p-ticket" in answer)
        lose = command and carried_out and front.rest_faults.take_lost_response()
        if command and front.rest_faults.ack_delay > 0:
            # The entity events went out inside ``call``; the answer follows them late.
            await trio.sleep(front.rest_faults.ack_delay)
        if lose:
            return DroppedResponse()
        if answer is None:
            return Response(b"", status_code=status)
        return json_response(answer, status)

    methods = ["GET", "POST"]
    return Starlette(routes=[Route("/{endpoint:path}", endpoint, methods=methods)])
