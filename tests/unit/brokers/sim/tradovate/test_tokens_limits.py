"""Tokens, sessions, hourly limits and penalty tickets of the Tradovate front (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from brokers.sim.tradovate.limits import Penalties, RequestLimits
from brokers.sim.tradovate.tokens import TOKEN_LIFETIME, TokenBook, TokenKind

T0 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_a_token_works_for_ninety_minutes() -> None:
    """An access token names its user until 90 minutes after the login, then nothing."""
    book = TokenBook()
    issued = book.open_session(7, T0)
    assert book.user_of(issued.access_token, T0 + TOKEN_LIFETIME - timedelta(seconds=1)) == 7
    assert book.user_of(issued.access_token, T0 + TOKEN_LIFETIME) is None
    assert book.user_of(issued.md_access_token, T0, TokenKind.MARKET_DATA) == 7
    assert book.user_of(issued.md_access_token, T0) is None


def test_a_third_login_closes_the_oldest_session() -> None:
    """Two sessions at most: the third login revokes the first one's tokens."""
    book = TokenBook()
    first = book.open_session(7, T0)
    second = book.open_session(7, T0)
    book.open_session(7, T0)
    assert book.user_of(first.access_token, T0) is None
    assert book.user_of(second.access_token, T0) == 7
    assert set(book.take_revoked()) == {first.access_token, first.md_access_token}
    assert book.take_revoked() == []


def test_renewal_extends_the_same_session() -> None:
    """A renewal keeps the session (no new one starts, nobody is closed)."""
    book = TokenBook()
    first = book.open_session(7, T0)
    second = book.open_session(7, T0)
    renewed = book.renew(first.access_token, T0 + timedelta(minutes=80))
    assert renewed is not None
    assert renewed.session_id == first.session_id
    assert book.live_sessions == [first.session_id, second.session_id]
    assert book.user_of(renewed.access_token, T0 + timedelta(minutes=150)) == 7


def test_expired_and_revoked_tokens_cannot_renew() -> None:
    """After expire_all no token renews; after revoke_all no session is left."""
    book = TokenBook()
    issued = book.open_session(7, T0)
    book.expire_all(T0)
    assert book.renew(issued.access_token, T0) is None
    book.revoke_all()
    assert book.live_sessions == []


def test_failed_logins_fill_the_window_successes_do_not() -> None:
    """accesstokenrequest counts failures only: five in an hour, then a captcha ticket."""
    limits = RequestLimits()
    for _ in range(10):
        limits.record("auth/accesstokenrequest", "ip", T0, succeeded=True)
    assert limits.over_limit("auth/accesstokenrequest", "ip", T0) is None
    for _ in range(5):
        limits.record("auth/accesstokenrequest", "ip", T0, succeeded=False)
    limit = limits.over_limit("auth/accesstokenrequest", "ip", T0)
    assert limit is not None
    assert limit.captcha
    assert limits.over_limit("auth/accesstokenrequest", "ip", T0 + timedelta(hours=1)) is None


def test_renewals_count_successes() -> None:
    """renewaccesstoken counts every renewal: the 16th in an hour is over the limit."""
    limits = RequestLimits()
    for _ in range(15):
        limits.record("auth/renewaccesstoken", "ip", T0, succeeded=True)
    assert limits.over_limit("auth/renewaccesstoken", "ip", T0) is not None
    assert limits.over_limit("auth/renewaccesstoken", "other-ip", T0) is None


def test_a_ticket_is_honoured_once_after_its_wait() -> None:
    """A penalty ticket works once p-time has passed, once only, and not before."""
    penalties = Penalties()
    body = penalties.issue(T0, 15, endpoint="auth/me")
    assert body["p-time"] == 15
    assert "p-captcha" not in body
    ticket = body["p-ticket"]
    assert not penalties.redeem(ticket, T0 + timedelta(seconds=14), endpoint="auth/me")
    assert penalties.redeem(ticket, T0 + timedelta(seconds=15), endpoint="auth/me")
    assert not penalties.redeem(ticket, T0 + timedelta(seconds=16), endpoint="auth/me")


def test_a_ticket_opens_only_the_endpoint_that_issued_it() -> None:
    """A short ticket of ``auth/me`` cannot be spent on a login past its hourly limit."""
    penalties = Penalties()
    ticket = penalties.issue(T0, 30, endpoint="auth/me")["p-ticket"]
    later = T0 + timedelta(seconds=31)
    assert not penalties.redeem(ticket, later, endpoint="auth/accesstokenrequest")
    assert penalties.redeem(ticket, later, endpoint="auth/me")


def test_the_user_limit_stops_at_five_thousand() -> None:
    """An authenticated user gets 5,000 requests an hour."""
    limits = RequestLimits()
    assert all(limits.take_user_request(7, T0) for _ in range(5000))
    assert not limits.take_user_request(7, T0)
    assert limits.take_user_request(7, T0 + timedelta(hours=1))


def test_a_session_renewed_for_months_keeps_only_its_live_tokens() -> None:
    """Renewing every hour for 90 days leaves a handful of tokens, not one per renewal."""
    book = TokenBook()
    token = book.open_session(7, T0).access_token
    for hour in range(1, 24 * 90):
        renewed = book.renew(token, T0 + timedelta(hours=hour))
        assert renewed is not None
        token = renewed.access_token
    assert book.tokens_kept <= 4
