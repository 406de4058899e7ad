"""Logins, renewals and ``auth/me`` of the Tradovate front. Each returns its answer and
whether it succeeded (the hourly limits count by outcome)."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from brokers.sim.tradovate.requests import AccessTokenRequest, BadRequest, read
from brokers.sim.tradovate.wire import timestamp

if TYPE_CHECKING:
    from brokers.sim.tradovate.front import TradovateFront
    from brokers.sim.tradovate.tokens import IssuedTokens

Outcome = tuple[tuple[int, Any], bool]
# As Tradovate words a refused login (field reports; HTTP 200).
WRONG_CREDENTIALS = (
    "Incorrect username or password. Please try again, noting that passwords are case-sensitive."
)
PASSWORD_EXPIRES_DAYS = 365


def credentials_match(front: TradovateFront, name: str, password: str) -> bool:
    if not name or not password:
        return False
    if front.username is None or front.password is None:
        return True
    return hmac.compare_digest(name, front.username) and hmac.compare_digest(
        password, front.password
    )


def access_token_request(front: TradovateFront, body: Any) -> Outcome:
    try:
        request = read(body, AccessTokenRequest)
    except BadRequest:
        return (200, {"errorText": WRONG_CREDENTIALS}), False
    if not credentials_match(front, request.name, request.password):
        return (200, {"errorText": WRONG_CREDENTIALS}), False
    issued = front.tokens.open_session(front.user_id, front.clock())
    front.publish_revoked()
    return (200, _token_body(front, issued)), True


def renew(front: TradovateFront, token: str) -> Outcome:
    issued = front.tokens.renew(token, front.clock())
    if issued is None:
        return (401, None), False
    return (200, _token_body(front, issued)), True


def me(front: TradovateFront) -> Outcome:
    return (
        200,
        {
            "userId": front.user_id,
            "name": front.user_name,
            "fullName": front.user_name,
            "email": f"{front.user_name}@example.invalid",
            "emailVerified": True,
            "isTrial": False,
            "organizationName": None,
            "currentAccountPlan": "Free",
        },
    ), True


def _token_body(front: TradovateFront, issued: IssuedTokens) -> dict[str, Any]:
    return {
        "accessToken": issued.access_token,
        "mdAccessToken": issued.md_access_token,
        "expirationTime": timestamp(issued.expires_at),
        "passwordExpirationTime": timestamp(front.clock() + timedelta(days=PASSWORD_EXPIRES_DAYS)),
        "userStatus": "Active",
        "userId": front.user_id,
        "name": front.user_name,
        "hasLive": False,
    }
