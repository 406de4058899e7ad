"""Outside input of every shape through a real ``tradingd run`` process, on each source:
numbers across and beyond decimal's context, deep nesting, huge keys and strings, invalid
UTF-8 and lone surrogates, duplicate keys. Every line gets its ack, every webhook body an
answer, the daemon is still up afterwards and starts again on the same journal.

One daemon serves all the examples of a test: the examples run inside it (each in a
``trio.run`` of its own), so Hypothesis never sends an example to a daemon already torn
down, and a daemon's start is paid once per test, not once per example.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st

from actors.signal_bounds import MAX_REASON_CHARS
from daemon.control.server import is_control_line
from tests.integration.input_daemon import PASSPHRASE, InputDaemon, input_daemon
from tests.strategies import alert_bodies, control_lines, outside_lines

# The slow run's seed: TRADINGD_FUZZ_SEED replays a run, otherwise a fresh one each time.
FUZZ_SEED = int(os.environ.get("TRADINGD_FUZZ_SEED") or random.randrange(2**32))
# Batches per source: the default suite's, and the slow run's.
DEFAULT_EXAMPLES = 25
SLOW_EXAMPLES = 400
# Short ids collide now and then: duplicates are part of the input.
IDS = st.text(min_size=1, max_size=6)
# A line whose JSON says ``kind: control`` is a control question on a socket, not a signal.
SIGNAL_LINES = outside_lines(IDS).filter(lambda line: not is_control_line(line))
BODIES = alert_bodies(PASSPHRASE)
# Answers a webhook body may get: an ack (200, 422) or a reason (400 malformed, 401 wrong
# passphrase, 413 too large). Never a 500, and never the 202/503 of an answer that came late.
WEBHOOK_ANSWERS = {200, 400, 401, 413, 422}

# The lines that each took ``tradingd run --once`` down before numbers were bounded.
KNOWN_CRASHES = [
    b'{"id":"a","symbol":"AAPL","action":"buy","qty":"1e999999"}',
    b'{"id":"d","symbol":"AAPL","action":"target","target_qty":"-1e30"}',
    b'{"id":"e","symbol":"AAPL","action":"buy","qty":"123456789012345678901234567890.123456789"}',
    b'{"id":"n","symbol":"AAPL","action":"buy","qty":' + b"[" * 5000 + b"]" * 5000 + b"}",
]

# Requests that reached the journal with a value it cannot take.
KNOWN_CONTROL_CRASHES = [
    b'{"kind":"control","command":"audit","since":"0001-01-01T00:00:00+14:00"}',
    b'{"kind":"control","command":"approve","id":9223372036854775808}',
]


def fuzz_settings(examples: int, fuzz_seed: int | None) -> settings:
    # No shrinking: a daemon the failing example took down fails every later example too.
    # A seeded run explores from its seed, also where the CI profile derandomizes.
    profile = settings()  # the loaded profile's values
    return settings(
        derandomize=fuzz_seed is None and profile.derandomize,
        max_examples=examples,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


Sender = Callable[[InputDaemon, list[bytes]], Awaitable[list[Any]]]
SENDERS: dict[str, Sender] = {
    "stdin": InputDaemon.stdin_acks,
    "socket": InputDaemon.socket_acks,
    "tcp": InputDaemon.tcp_acks,
}
LINE_BATCHES = st.lists(SIGNAL_LINES, min_size=1, max_size=8)
BODY_BATCHES = st.lists(BODIES, min_size=1, max_size=8)


def check_acks(lines: list[bytes], acks: list[Any], context: str) -> None:
    """One ack per line, each a verdict with a bounded reason (a rejection says why)."""
    assert len(acks) == len(lines), context
    for line, ack in zip(lines, acks, strict=True):
        where = f"{context}: line {line[:200]!r} got {ack}"
        assert ack["kind"] == "ack", where
        assert ack["status"] in ("accepted", "duplicate", "rejected"), where
        if ack["status"] == "rejected":
            assert ack["reason"], where
        assert ack["reason"] is None or len(ack["reason"]) <= MAX_REASON_CHARS, where


def check_answers(bodies: list[bytes], answers: list[Any], context: str) -> None:
    """One HTTP answer per body: an ack or a reason, never a server error."""
    for body, response in zip(bodies, answers, strict=True):
        where = f"{context}: body {body[:200]!r} got {response.status_code} {response.text[:300]}"
        assert response.status_code in WEBHOOK_ANSWERS, where
        payload = msgspec.json.decode(response.content)
        assert payload.get("kind") == "ack" or payload["error"], where
        reason = payload.get("reason") or payload.get("error") or ""
        assert len(reason) <= MAX_REASON_CHARS, where


def survives_and_restarts(workdir: Path, fuzz: Callable[[InputDaemon], None]) -> None:
    """Run ``fuzz`` against a fresh daemon, check it is still up, stop it, and start it
    again on the same journal: nothing it was sent may keep it from starting."""
    with input_daemon(workdir) as daemon:
        fuzz(daemon)
        trio.run(daemon.still_up)
        daemon.terminate()
    assert "Traceback" not in daemon.log(), daemon.log()[-4000:]
    with input_daemon(workdir) as again:
        trio.run(again.still_up)
        again.terminate()
    assert "Traceback" not in again.log(), again.log()[-4000:]


def replay_note(fuzz_seed: int | None) -> str:
    """What a failure message says to replay the run (a seeded one by its seed)."""
    if fuzz_seed is None:
        return ""
    return f", fuzz seed {fuzz_seed} (replay: TRADINGD_FUZZ_SEED={fuzz_seed})"


def fuzz_lines(
    daemon: InputDaemon, source: str, examples: int, fuzz_seed: int | None = None
) -> None:
    """``examples`` batches of lines on ``source``, the known crashes among them."""
    send = SENDERS[source]
    context = f"{source}{replay_note(fuzz_seed)}"

    @seed(fuzz_seed)
    @fuzz_settings(examples, fuzz_seed)
    @given(lines=LINE_BATCHES)
    @example(lines=KNOWN_CRASHES)
    def batch(lines: list[bytes]) -> None:
        check_acks(lines, trio.run(send, daemon, lines), context)

    batch()


def fuzz_bodies(daemon: InputDaemon, examples: int, fuzz_seed: int | None = None) -> None:
    """``examples`` batches of webhook bodies."""
    context = f"webhook{replay_note(fuzz_seed)}"

    @seed(fuzz_seed)
    @fuzz_settings(examples, fuzz_seed)
    @given(bodies=BODY_BATCHES)
    def batch(bodies: list[bytes]) -> None:
        check_answers(bodies, trio.run(daemon.post_alerts, bodies), context)

    batch()


@pytest.mark.parametrize("source", sorted(SENDERS))
def test_every_line_on_a_source_gets_an_ack_and_the_daemon_stays_up(source: str) -> None:
    """Batches of lines of any shape on stdin, the unix socket or TCP: one ack per line, a
    daemon still up, and a restart on the same journal."""
    with tempfile.TemporaryDirectory(prefix="td-") as workdir:
        survives_and_restarts(
            Path(workdir), lambda daemon: fuzz_lines(daemon, source, DEFAULT_EXAMPLES)
        )


def test_every_webhook_body_gets_an_answer_and_the_daemon_stays_up() -> None:
    """Batches of alert bodies with numbers of any size: one answer each, never a 500, a
    daemon still up, and a restart on the same journal."""
    with tempfile.TemporaryDirectory(prefix="td-") as workdir:
        survives_and_restarts(Path(workdir), lambda daemon: fuzz_bodies(daemon, DEFAULT_EXAMPLES))


def test_every_control_request_gets_a_reply_and_the_daemon_stays_up() -> None:
    """Control requests with fields of any value, each on its own connection: one reply
    each, and a daemon still up that starts again on the same journal."""

    def fuzz(daemon: InputDaemon) -> None:
        @fuzz_settings(DEFAULT_EXAMPLES, None)
        @given(requests=st.lists(control_lines(), min_size=1, max_size=8))
        @example(requests=KNOWN_CONTROL_CRASHES)
        def batch(requests: list[bytes]) -> None:
            for request in requests:
                reply = trio.run(daemon.control_reply, request)
                where = (request[:200], reply)
                if reply["kind"] == "ack":
                    # Not JSON enough to read its kind (invalid UTF-8): a rejected signal.
                    assert reply["status"] == "rejected", where
                    continue
                assert reply["kind"] == "reply", where
                assert reply["ok"] or reply["error"], where

        batch()

    with tempfile.TemporaryDirectory(prefix="td-") as workdir:
        survives_and_restarts(Path(workdir), fuzz)


@pytest.mark.slow
def test_a_long_fuzz_on_every_source_leaves_the_daemon_up() -> None:
    """Hundreds of batches on every source against one daemon; replay a run with
    TRADINGD_FUZZ_SEED set to the seed it prints (and names in any failure)."""
    print(f"fuzz seed {FUZZ_SEED} (replay: TRADINGD_FUZZ_SEED={FUZZ_SEED})")

    def fuzz(daemon: InputDaemon) -> None:
        for source in SENDERS:
            fuzz_lines(daemon, source, SLOW_EXAMPLES, FUZZ_SEED)
        fuzz_bodies(daemon, SLOW_EXAMPLES, FUZZ_SEED)

    with tempfile.TemporaryDirectory(prefix="td-") as workdir:
        survives_and_restarts(Path(workdir), fuzz)
