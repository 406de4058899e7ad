"""Webhook authentication and rate limiting: tokens, passphrases, signatures, buckets."""

from __future__ import annotations

import pytest

from daemon.config import ConfigError
from daemon.webhook.auth import (
    RateLimiter,
    WebhookToken,
    check_signature,
    find_token,
    parse_tokens,
    passphrase_matches,
    retry_after,
    signature,
)

A = WebhookToken(name="a", token="a" * 20, passphrase="pass-a-long")
B = WebhookToken(name="b", token="b" * 20, passphrase="pass-b-long", hmac_secret="secret")


def test_find_token_matches_exactly_one_token() -> None:
    """The path token picks its entry; a prefix or a near miss picks nothing."""
    assert find_token([A, B], "b" * 20) is B
    assert find_token([A, B], "b" * 19) is None
    assert find_token([A, B], "") is None
    assert passphrase_matches(A, "pass-a-long")
    assert not passphrase_matches(A, None)
    assert not passphrase_matches(A, "pass-b-long")


def test_tokens_never_show_their_secrets_in_repr() -> None:
    """A token logged by mistake shows its name only."""
    assert repr(B) == "WebhookToken(name='b')"


def test_parse_tokens_refuses_short_secrets_and_duplicate_names() -> None:
    """Weak tokens or passphrases, and ambiguous names, are config errors."""
    good = b'[{"name":"a","token":"aaaaaaaaaaaaaaaaaaaa","passphrase":"12345678"}]'
    assert parse_tokens(good, "f")[0].name == "a"
    with pytest.raises(ConfigError, match="16\\+"):
        parse_tokens(b'[{"name":"a","token":"short","passphrase":"12345678"}]', "f")
    with pytest.raises(ConfigError, match="unique"):
        parse_tokens(good[:-1] + b"," + good[1:], "f")
    with pytest.raises(ConfigError, match="webhook tokens"):
        parse_tokens(b"{", "f")


def test_signature_must_match_and_be_fresh() -> None:
    """A signed token needs the right HMAC over timestamp.body, within the tolerance."""
    body = b'{"ticker":"AAPL"}'
    good = signature("secret", "1000", body)
    assert check_signature(B, "1000", good, body, now=1010, tolerance=30) is None
    assert check_signature(B, "1000", good, body, now=1031, tolerance=30) == (
        "timestamp outside the tolerance"
    )
    assert check_signature(B, "1000", good, body + b" ", now=1000, tolerance=30) == (
        "bad signature"
    )
    assert check_signature(B, None, None, body, now=1000, tolerance=30) == "signature required"
    assert check_signature(B, "soon", good, body, now=1000, tolerance=30) == "bad timestamp"
    assert check_signature(A, None, None, body, now=1000, tolerance=30) is None


def test_rate_limiter_allows_the_burst_then_refills_per_minute() -> None:
    """burst requests at once, then one more per 60/per_minute seconds, per token."""
    limiter = RateLimiter(per_minute=6, burst=2)
    assert [limiter.allow("a", 0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", 0)
    assert not limiter.allow("a", 9.9)
    assert limiter.allow("a", 10)
    assert not limiter.allow("a", 10)


def test_a_charged_bucket_says_how_long_until_its_next_request() -> None:
    """charge takes one even from an empty bucket (never below 0), says when it emptied it,
    and wait tells the seconds until one is back without taking anything."""
    limiter = RateLimiter(per_minute=6, burst=2)
    assert [limiter.charge("src", 0) for _ in range(3)] == [False, True, False]
    assert limiter.wait("src", 0) == 10
    assert limiter.wait("src", 4) == 6
    assert limiter.wait("src", 10) == 0
    assert limiter.wait("other", 0) == 0


def test_only_the_most_recently_seen_keys_are_remembered() -> None:
    """Past max_keys the least recently seen key is forgotten: a spray of sources is bounded."""
    limiter = RateLimiter(per_minute=6, burst=1, max_keys=2)
    limiter.charge("a", 0)
    limiter.charge("b", 0)
    limiter.charge("a", 0)  # a seen again: b is now the oldest
    limiter.charge("c", 0)
    assert [limiter.wait(k, 0) > 0 for k in ("a", "b", "c")] == [True, False, True]


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    """The header rounds up, and never says 0 (which would invite an immediate retry)."""
    assert [retry_after(s) for s in (0.0, 0.2, 1.0, 9.01)] == ["1", "1", "1", "10"]
