"""Tradovate's request limits and penalty tickets (pure: every call takes ``now``).

Per endpoint and per IP, a rolling hour (digest §6):

| endpoint | limit/h | back-off | counts successes |
|---|---|---|---|
| accesstokenrequest | 5 | 15 s | no |
| renewaccesstoken | 15 | 15 s | yes |
| me | 10 | 30 s | no |
| syncrequest | 300 | 3 s | yes |

"counts successes: no" means only failed requests fill the window. A request over the limit
is answered with a penalty ticket (HTTP 200 ``{"p-ticket", "p-time", "p-captcha"?}``); the
same request sent again with that ``p-ticket`` once ``p-time`` seconds have passed goes
through, sent earlier it gets another ticket. A login over its limit also carries
``p-captcha`` (wait the hour): a captcha cannot be solved through the API, so its ticket is
never honoured early. Beside these, an authenticated user has 5,000 requests an hour,
answered 429 with an empty body past it.
"""

from __future__ import annotations

import secrets
from collections import deque
from datetime import datetime, timedelta
from typing import Any

import attrs

HOUR = timedelta(hours=1)
USER_LIMIT_PER_HOUR = 5000
# Tickets a venue remembers at once: a client that never resends must not grow the venue.
TICKETS_KEPT = 10_000


@attrs.frozen
class EndpointLimit:
    per_hour: int
    backoff_s: int
    counts_successes: bool
    captcha: bool = False


LIMITS: dict[str, EndpointLimit] = {
    "auth/accesstokenrequest": EndpointLimit(5, 15, counts_successes=False, captcha=True),
    "auth/renewaccesstoken": EndpointLimit(15, 15, counts_successes=True),
    "auth/me": EndpointLimit(10, 30, counts_successes=False),
    "user/syncrequest": EndpointLimit(300, 3, counts_successes=True),
}


@attrs.frozen
class Ticket:
    not_before: datetime
    captcha: bool
    # The endpoint that issued it: a ticket lets through a resend of that request only, so a
    # short wait of one endpoint cannot buy past another's limit.
    endpoint: str


@attrs.define
class Penalties:
    """Issued penalty tickets and when each may be used."""

    _tickets: dict[str, Ticket] = attrs.field(factory=dict)

    def issue(
        self, now: datetime, seconds: int, *, endpoint: str, captcha: bool = False
    ) -> dict[str, Any]:
        """A ticket and the body that carries it."""
        ticket = secrets.token_urlsafe(24)
        if len(self._tickets) >= TICKETS_KEPT:
            del self._tickets[next(iter(self._tickets))]
        wait = timedelta(hours=1) if captcha else timedelta(seconds=seconds)
        self._tickets[ticket] = Ticket(now + wait, captcha, endpoint)
        body: dict[str, Any] = {"p-ticket": ticket, "p-time": seconds}
        if captcha:
            body["p-captcha"] = True
        return body

    def pending(self, ticket: str | None) -> bool:
        """Whether ``ticket`` was issued and not yet used."""
        return ticket is not None and ticket in self._tickets

    def wait_of(self, ticket: str, now: datetime) -> tuple[int, bool]:
        """(seconds still to wait, captcha) of a pending ticket."""
        issued = self._tickets[ticket]
        return max(1, int((issued.not_before - now).total_seconds())), issued.captcha

    def redeem(self, ticket: str | None, now: datetime, *, endpoint: str) -> bool:
        """Whether ``ticket`` lets this request to ``endpoint`` through (it is then used up)."""
        if ticket is None:
            return False
        issued = self._tickets.get(ticket)
        if issued is None or now < issued.not_before or issued.endpoint != endpoint:
            return False
        del self._tickets[ticket]
        return True


@attrs.define
class HourlyWindow:
    """Moments of counted requests within the last hour."""

    _moments: deque[datetime] = attrs.field(factory=deque)

    def count(self, now: datetime) -> int:
        while self._moments and self._moments[0] <= now - HOUR:
            self._moments.popleft()
        return len(self._moments)

    def add(self, now: datetime) -> None:
        self._moments.append(now)


@attrs.define
class RequestLimits:
    """The per-endpoint windows (by endpoint and IP) and the per-user windows."""

    _endpoint_windows: dict[tuple[str, str], HourlyWindow] = attrs.field(factory=dict)
    _user_windows: dict[int, HourlyWindow] = attrs.field(factory=dict)

    def over_limit(self, endpoint: str, peer: str, now: datetime) -> EndpointLimit | None:
        """The limit this request is past, if any (nothing is counted yet)."""
        limit = LIMITS.get(endpoint)
        if limit is None:
            return None
        window = self._endpoint_windows.get((endpoint, peer))
        if window is not None and window.count(now) >= limit.per_hour:
            return limit
        return None

    def record(self, endpoint: str, peer: str, now: datetime, *, succeeded: bool) -> None:
        """Count a request's outcome as the endpoint's limit counts it."""
        limit = LIMITS.get(endpoint)
        if limit is None or (succeeded and not limit.counts_successes):
            return
        key = (endpoint, peer)
        window = self._endpoint_windows.get(key)
        if window is None:
            window = self._endpoint_windows[key] = HourlyWindow()
        window.add(now)

    def take_user_request(self, user_id: int, now: datetime) -> bool:
        """Count one request of an authenticated user; False past 5,000 in the hour."""
        window = self._user_windows.get(user_id)
        if window is None:
            window = self._user_windows[user_id] = HourlyWindow()
        if window.count(now) >= USER_LIMIT_PER_HOUR:
            return False
        window.add(now)
        return True
