"""The Tradovate front's REST endpoints without HTTP: ``call`` answers one request.

Used by the HTTP routes under ``/v1`` and, over the user websocket, by its dispatcher.
Every request meets, in order: a penalty ticket it carries (honoured once its wait is
over), the ``p_ticket`` and ``http_status`` faults, the bearer check (401, empty body),
the user's hourly limit (429, empty body) and the endpoint's hourly limit (penalty ticket).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brokers.sim.tradovate import auth, reads
from brokers.sim.tradovate.orders import (
    Refused,
    cancel_order,
    liquidate_position,
    modify_order,
    place_oco,
    place_order,
    place_oso,
)
from brokers.sim.tradovate.requests import (
    BadRequest,
    CancelOrder,
    InterruptOrderStrategy,
    LiquidatePosition,
    ModifyOrder,
    PlaceOco,
    PlaceOrder,
    PlaceOso,
    StartOrderStrategy,
    read,
)
from brokers.sim.tradovate.strategies import DISABLED

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from brokers.sim.tradovate.front import TradovateFront

Answer = tuple[int, Any]

# The commands that reach the matching core: reject_next, lose_response and delay_acks
# apply to these.
ORDER_COMMANDS = frozenset(
    {
        "order/placeorder",
        "order/placeoso",
        "order/placeoco",
        "order/modifyorder",
        "order/cancelorder",
        "order/liquidateposition",
        "orderStrategy/startorderstrategy",
        "orderStrategy/interruptorderstrategy",
    }
)


AUTH_ENDPOINTS = ("auth/accesstokenrequest", "auth/renewaccesstoken", "auth/me")
# Tradovate reads endpoint names whatever their case: the official samples send
# ``order/placeOrder`` and ``orderStrategy/startOrderStrategy`` over the socket.
_BY_LOWER_CASE = {
    name.lower(): name
    for name in (*AUTH_ENDPOINTS, *ORDER_COMMANDS, *reads.NAMED_READS, *reads.ENTITY_READS)
}


def canonical(endpoint: str) -> str:
    """The venue's spelling of ``endpoint`` (``order/placeOrder`` → ``order/placeorder``);
    an unknown one unchanged."""
    return _BY_LOWER_CASE.get(endpoint.lower(), endpoint)


def _command(front: TradovateFront, endpoint: str, body: Any) -> dict[str, Any]:
    match endpoint:
        case "order/placeorder":
            return place_order(front, read(body, PlaceOrder))
        case "order/placeoso":
            return place_oso(front, read(body, PlaceOso))
        case "order/placeoco":
            return place_oco(front, read(body, PlaceOco))
        case "order/modifyorder":
            return modify_order(front, read(body, ModifyOrder))
        case "order/cancelorder":
            return cancel_order(front, read(body, CancelOrder))
        case "order/liquidateposition":
            return liquidate_position(front, read(body, LiquidatePosition))
        case "orderStrategy/startorderstrategy":
            return front.strategies.start(front, read(body, StartOrderStrategy))
        case "orderStrategy/interruptorderstrategy":
            return front.strategies.interrupt(front, read(body, InterruptOrderStrategy))
    raise AssertionError(endpoint)


def order_command(front: TradovateFront, endpoint: str, body: Any) -> Answer:
    """An order command on the core, its entity events published whatever the outcome."""
    rejection = front.rest_faults.take_rejection()
    if rejection is not None:
        return 200, rejection
    if front.rest_faults.strategy_disabled and endpoint in (
        "orderStrategy/startorderstrategy",
        "order/placeoso",
    ):
        # The shape of this refusal is unconfirmed: the field report quotes the text only.
        return 200, {
            "errorText": DISABLED,
            "failureReason": "UnknownReason",
            "failureText": DISABLED,
        }
    try:
        return 200, _command(front, endpoint, body)
    except Refused as refused:
        return 200, refused.body
    finally:
        front.publish_events()


async def call(
    front: TradovateFront,
    endpoint: str,
    query: Mapping[str, str],
    body: Any,
    *,
    token: str,
    peer: str = "",
) -> Answer:
    """Answer one request: ``endpoint`` without ``/v1/`` (``"order/placeorder"``);
    returns the HTTP status and the JSON value (None: an empty body)."""
    endpoint = canonical(endpoint)
    now = front.clock()
    ticket = body.get("p-ticket") if isinstance(body, dict) else query.get("p-ticket")
    honoured = front.penalties.redeem(ticket, now)
    if not honoured:
        if ticket is not None and front.penalties.pending(ticket):
            # Sent again too early: another ticket, as Tradovate does.
            seconds, captcha = front.penalties.wait_of(ticket, now)
            return 200, front.penalties.issue(now, seconds, captcha=captcha)
        penalty = front.rest_faults.take_penalty()
        if penalty is not None:
            return 200, front.penalties.issue(now, penalty[0], captcha=penalty[1])
    status = front.rest_faults.take_status()
    if status is not None:
        return status.status, None
    if endpoint == "auth/accesstokenrequest":
        return _limited(
            front, endpoint, peer, honoured, lambda: auth.access_token_request(front, body)
        )
    user_id = front.access_user(token)
    if user_id is None:
        # Unconfirmed: the body of Tradovate's REST 401 (sent empty here).
        return 401, None
    if not front.limits.take_user_request(user_id, now):
        return 429, None
    try:
        if endpoint == "auth/renewaccesstoken":
            return _limited(front, endpoint, peer, honoured, lambda: auth.renew(front, token))
        if endpoint == "auth/me":
            return _limited(front, endpoint, peer, honoured, lambda: auth.me(front))
        if endpoint in ORDER_COMMANDS:
            return order_command(front, endpoint, body)
        return reads.answer(front, endpoint, query, body)
    except BadRequest as bad:
        # Unconfirmed: how Tradovate words a body that misses a required field.
        return 400, {"errorText": str(bad)}


def _limited(
    front: TradovateFront,
    endpoint: str,
    peer: str,
    honoured: bool,
    handle: Callable[[], tuple[Answer, bool]],
) -> Answer:
    now = front.clock()
    limit = None if honoured else front.limits.over_limit(endpoint, peer, now)
    if limit is not None:
        return 200, front.penalties.issue(now, limit.backoff_s, captcha=limit.captcha)
    answer, succeeded = handle()
    front.limits.record(endpoint, peer, now, succeeded=succeeded)
    return answer
