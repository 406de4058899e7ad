"""Idempotent reads wait out the venue's trouble, honour its hints, and never retry refused
credentials (``actors.retry``)."""

from __future__ import annotations

import random

import pytest
import trio
import trio.testing

from actors.patient_reads import read_until_answered
from actors.retry import Backoff, BrokerWait
from brokers.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    OrderNotFound,
    RateLimited,
)


class FlakyRead:
    """Raises each of ``failures`` in turn, then answers ``"answer"``."""

    def __init__(self, *failures: BrokerError) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "answer"


def refused() -> BrokerUnavailable:
    return BrokerUnavailable(
        "GET /v2/account: ConnectError: refused", request_may_have_arrived=False
    )


async def test_a_read_is_asked_again_until_it_answers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Refused connections, 5xx and an unreadable answer: retried, each wait announced."""
    waits: list[BrokerWait] = []
    read = FlakyRead(
        refused(),
        BrokerUnavailable("GET /v2/account: venue error (HTTP 503)", request_may_have_arrived=True),
        BrokerError("GET /v2/account: the venue's answer is unreadable"),
    )
    answer = await read_until_answered(
        read, on_wait=waits.append, backoff=Backoff(base=1.0, cap=60.0, rng=random.Random(3))
    )
    assert answer == "answer"
    assert read.calls == 4
    assert [w.attempt for w in waits] == [1, 2, 3]
    assert trio.current_time() == pytest.approx(sum(w.delay for w in waits))
    assert (
        waits[1]
        .describe()
        .startswith("waiting for the broker: GET /v2/account: venue error (HTTP 503), retry in ")
    )


async def test_the_venues_retry_after_is_honoured(autojump_clock: trio.testing.MockClock) -> None:
    """A 429 asking for 42 s is asked again no sooner than 42 s later."""
    read = FlakyRead(RateLimited("GET /v2/assets: rate limited (429)", retry_after=42.0))
    await read_until_answered(read, backoff=Backoff(base=1.0, cap=60.0))
    assert trio.current_time() == pytest.approx(42.0)


async def test_it_keeps_waiting_for_as_long_as_it_takes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two hundred refusals in a row: still waiting, each wait capped, then the answer."""
    read = FlakyRead(*(refused() for _ in range(200)))
    waits: list[BrokerWait] = []
    assert await read_until_answered(read, on_wait=waits.append) == "answer"
    assert len(waits) == 200
    assert max(w.delay for w in waits) <= 60.0
    assert trio.current_time() > 3600


@pytest.mark.parametrize(
    "final",
    [
        AuthenticationFailed("GET /v2/account: credentials refused (401)"),
        OrderNotFound("GET /v2/orders/x: not found (404)"),
    ],
)
async def test_refused_credentials_and_final_answers_raise_at_once(
    autojump_clock: trio.testing.MockClock, final: BrokerError
) -> None:
    """401/403 and a 404 are answers: raised on the first call, no wait, no retry."""
    read = FlakyRead(final)
    waits: list[BrokerWait] = []
    with pytest.raises(type(final)):
        await read_until_answered(read, on_wait=waits.append)
    assert (read.calls, waits, trio.current_time()) == (1, [], 0.0)
