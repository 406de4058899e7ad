"""Who may post alerts: per-token secrets, optional HMAC signatures, and the buckets that
bound floods (per token once authenticated, per source for failed authentication).

Pure: secrets and the time come in, decisions go out. Every secret comparison is constant
time (``hmac.compare_digest``), and the token lookup compares against every token, so the
time taken says nothing about how much of a token was right.

The tokens file is JSON (a systemd credential, never the config file)::

    [{"name": "tv-main", "token": "…", "passphrase": "…", "hmac_secret": null}]
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
from typing import TYPE_CHECKING

import attrs
import msgspec

from daemon.config import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

TIMESTAMP_HEADER = "x-tradingd-timestamp"
SIGNATURE_HEADER = "x-tradingd-signature"


class WebhookToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    token: str
    passphrase: str
    hmac_secret: str | None = None  # set: requests must be signed (TradingView cannot sign)

    def __repr__(self) -> str:  # secrets never reach a log line
        return f"WebhookToken(name={self.name!r})"


def parse_tokens(data: bytes, source: str) -> tuple[WebhookToken, ...]:
    try:
        tokens = msgspec.json.decode(data, type=tuple[WebhookToken, ...])
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{source}: webhook tokens: {exc}") from exc
    for t in tokens:
        if len(t.token) < 16 or len(t.passphrase) < 8:
            raise ConfigError(
                f"{source}: webhook token {t.name!r}: token needs 16+ characters, "
                "passphrase 8+ (they are all that stands between the internet and your account)"
            )
    if len({t.name for t in tokens}) != len(tokens):
        raise ConfigError(f"{source}: webhook token names must be unique")
    return tokens


def find_token(tokens: Sequence[WebhookToken], presented: str) -> WebhookToken | None:
    """The token named in the path, compared in constant time against every one."""
    found = None
    for candidate in tokens:
        if hmac.compare_digest(candidate.token.encode(), presented.encode()):
            found = candidate
    return found


def passphrase_matches(token: WebhookToken, presented: str | None) -> bool:
    return hmac.compare_digest(token.passphrase.encode(), (presented or "").encode())


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, timestamp + "." + body)): what a signing sender computes."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_signature(
    token: WebhookToken,
    timestamp: str | None,
    presented: str | None,
    body: bytes,
    now: float,
    tolerance: float,
) -> str | None:
    """None when acceptable, else why not. The timestamp bounds replays of a signed body."""
    if token.hmac_secret is None:
        return None
    if timestamp is None or presented is None:
        return "signature required"
    try:
        sent = float(timestamp)
    except ValueError:
        return "bad timestamp"
    if abs(now - sent) > tolerance:
        return "timestamp outside the tolerance"
    expected = signature(token.hmac_secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), presented.strip().lower().encode()):
        return "bad signature"
    return None


class Throttle(enum.StrEnum):
    """Why the webhook answered 429."""

    RATE_LIMIT = "rate_limit"  # an authenticated alert over its token's limit
    AUTH_FAILURES = "auth_failures"  # a source over its budget of failed authentications


# A source is an address; past this many, the least recently seen is forgotten, so a
# spray of addresses costs memory only up to here.
MAX_TRACKED_KEYS = 10_000


@attrs.define
class RateLimiter:
    """A token bucket per key: ``burst`` at once, ``per_minute`` sustained.

    Keyed by webhook token name for authenticated alerts, and by source address for failed
    authentication: the two never share a bucket, so failures can never use up a strategy's.
    """

    per_minute: float
    burst: float
    max_keys: int = MAX_TRACKED_KEYS
    _buckets: dict[str, tuple[float, float]] = attrs.field(factory=dict)

    def allow(self, key: str, now: float) -> bool:
        """Take one request from ``key``'s bucket; False (nothing taken) when it is empty."""
        level = self._level(key, now)
        if level < 1:
            self._store(key, level, now)
            return False
        self._store(key, level - 1, now)
        return True

    def charge(self, key: str, now: float) -> bool:
        """Take one whatever the level (it stays at least 0); True when this emptied it."""
        level = self._level(key, now)
        self._store(key, max(0.0, level - 1), now)
        return level >= 1 > level - 1

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` has a request to spend (0: it has one now); takes nothing."""
        level = self._level(key, now)
        return 0.0 if level >= 1 else (1 - level) * 60 / self.per_minute

    def _level(self, key: str, now: float) -> float:
        level, at = self._buckets.get(key, (self.burst, now))
        # Refilled from the elapsed time rather than by a timer: no task, no drift.
        return min(self.burst, level + (now - at) * self.per_minute / 60)

    def _store(self, key: str, level: float, now: float) -> None:
        self._buckets.pop(key, None)  # re-inserted last: the dict's order is recency
        self._buckets[key] = (level, now)
        while len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` header's value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
