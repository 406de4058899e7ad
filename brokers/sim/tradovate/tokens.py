"""Access tokens and sessions of the Tradovate front (pure: every call takes ``now``).

Each successful ``accesstokenrequest`` starts a session with an access token and a
market-data token, both valid for 90 minutes. At most two sessions are live at once: a
third closes the oldest, whose tokens stop working at once. ``renewaccesstoken`` gives the
same session a fresh access token (the old one keeps working until its own expiry; whether
Tradovate ends it early is unconfirmed). Tokens that stopped working before their expiry are
handed out by ``take_revoked`` so the websockets can drop what they authorized.
"""

from __future__ import annotations

import enum
import itertools
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable

TOKEN_LIFETIME = timedelta(minutes=90)
MAX_SESSIONS = 2


class TokenKind(enum.Enum):
    ACCESS = "access"
    MARKET_DATA = "md"


@attrs.frozen
class Grant:
    """One issued token: whose session it belongs to and when it stops working."""

    session_id: int
    user_id: int
    kind: TokenKind
    expires_at: datetime


@attrs.frozen
class IssuedTokens:
    """What a login or a renewal hands out."""

    session_id: int
    access_token: str
    md_access_token: str
    expires_at: datetime


def _random_token() -> str:
    return secrets.token_urlsafe(48)


@attrs.define
class TokenBook:
    _new_token: Callable[[], str] = _random_token
    _session_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    # Live sessions, oldest first, each with the tokens it issued.
    _sessions: dict[int, list[str]] = attrs.field(factory=dict)
    _grants: dict[str, Grant] = attrs.field(factory=dict)
    _revoked: list[str] = attrs.field(factory=list)

    def open_session(self, user_id: int, now: datetime) -> IssuedTokens:
        """A new session (the oldest closes when there would be more than two)."""
        self._forget_expired(now)
        session_id = next(self._session_ids)
        self._sessions[session_id] = []
        while len(self._sessions) > MAX_SESSIONS:
            self._close(next(iter(self._sessions)))
        return self._issue(session_id, user_id, now, md=True)

    def renew(self, token: str, now: datetime) -> IssuedTokens | None:
        """A fresh access token for the session of ``token`` (None: not a live token)."""
        grant = self._live(token, TokenKind.ACCESS, now)
        if grant is None:
            return None
        # A session that only ever renews must not keep every token it was given.
        self._forget_expired(now)
        md = next(
            (t for t in self._sessions[grant.session_id] if self._is_md(t, now)),
            None,
        )
        issued = self._issue(grant.session_id, grant.user_id, now, md=md is None)
        if md is not None:
            issued = attrs.evolve(issued, md_access_token=md)
        return issued

    def user_of(self, token: str, now: datetime, kind: TokenKind = TokenKind.ACCESS) -> int | None:
        grant = self._live(token, kind, now)
        return grant.user_id if grant is not None else None

    def session_of(self, token: str, now: datetime) -> int | None:
        grant = self._live(token, TokenKind.ACCESS, now)
        return grant.session_id if grant is not None else None

    def expire_all(self, now: datetime) -> None:
        """Every current token expires now; the sessions stay (a login starts a new one)."""
        for token, grant in self._grants.items():
            self._grants[token] = attrs.evolve(grant, expires_at=min(grant.expires_at, now))

    def revoke_all(self) -> None:
        """Every session ends and its tokens stop working."""
        for session_id in list(self._sessions):
            self._close(session_id)

    def take_revoked(self) -> list[str]:
        """Tokens that stopped working early since the last call."""
        revoked, self._revoked = self._revoked, []
        return revoked

    @property
    def tokens_kept(self) -> int:
        """How many tokens the book still holds (live or expired, not yet forgotten)."""
        return len(self._grants)

    @property
    def live_sessions(self) -> list[int]:
        return list(self._sessions)

    def _issue(self, session_id: int, user_id: int, now: datetime, *, md: bool) -> IssuedTokens:
        expires_at = now + TOKEN_LIFETIME
        access = self._new_token()
        tokens = self._sessions[session_id]
        self._grants[access] = Grant(session_id, user_id, TokenKind.ACCESS, expires_at)
        tokens.append(access)
        md_token = ""
        if md:
            md_token = self._new_token()
            self._grants[md_token] = Grant(session_id, user_id, TokenKind.MARKET_DATA, expires_at)
            tokens.append(md_token)
        return IssuedTokens(session_id, access, md_token, expires_at)

    def _is_md(self, token: str, now: datetime) -> bool:
        return self._live(token, TokenKind.MARKET_DATA, now) is not None

    def _live(self, token: str, kind: TokenKind, now: datetime) -> Grant | None:
        grant = self._grants.get(token)
        if grant is None or grant.kind is not kind or now >= grant.expires_at:
            return None
        return grant

    def _close(self, session_id: int) -> None:
        for token in self._sessions.pop(session_id, []):
            if self._grants.pop(token, None) is not None:
                self._revoked.append(token)

    def _forget_expired(self, now: datetime) -> None:
        # Bounded: a venue that runs for months must not keep every token it ever issued.
        for session_id, tokens in self._sessions.items():
            live = [t for t in tokens if now < self._grants[t].expires_at]
            for token in set(tokens) - set(live):
                del self._grants[token]
            self._sessions[session_id] = live
