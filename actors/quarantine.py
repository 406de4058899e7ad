"""Quarantine: a signal whose handling raised is journaled ``failed`` before the error goes on.

A crashing actor takes the daemon down (systemd restarts it; startup reconciliation makes the
restart safe). But a signal that raised would be replayed at the next start and raise again:
a crash loop, with positions unmanaged. So the failure is committed first (``SignalFailed``:
never replayed, its id spent), the sender still waiting is acked ``rejected`` with the error,
and only then does the exception leave.

Trouble from the world (``TradingError``: a journal that cannot be written, a venue that does
not answer) is not the signal's fault and quarantines nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import attrs
import msgspec
import trio

from actors.messages import Ack, BadSignal
from actors.records import FailureStage, JournalSink, SignalFailed
from actors.signal_bounds import ERROR_CHARS, RAW_CHARS, bounded_text
from brokers.base import utc_now
from brokers.errors import TradingError

log = logging.getLogger("tradingd.quarantine")

T = TypeVar("T")

# A sender waiting for the ack of a failed signal gets it if it reads within this long: the
# daemon is about to stop, and a stopped daemon closes the connection anyway.
ACK_WAIT = 1.0
# How long the failure's record may take to become durable before the daemon stops anyway.
JOURNAL_WAIT = 10.0

WHAT_TO_DO = (
    "it is never replayed and its id stays spent; `tradingd signals --failed` lists it, "
    "`tradingd signals clear ID` resolves it; to trade, send a new signal with a new id"
)


@attrs.frozen
class AtStake:
    """A signal a failing handler was working on, and who still waits for its ack."""

    signal_id: str | None
    reply: trio.MemorySendChannel[Ack] | None = None  # None once acked (or for a replay)
    raw: str | None = None  # the line, when the journal has it nowhere else


# The signals at stake, or how to find them once the handler has failed (for a hot path,
# where working them out for every input would cost more than the handling).
AtStakeNow = Sequence[AtStake] | Callable[[], Sequence[AtStake]]


def failure_record(
    at_stake: AtStake, stage: FailureStage, exc: BaseException
) -> SignalFailed | None:
    """The journal's mark of the failure (None for a line that had no readable id)."""
    if at_stake.signal_id is None:
        return None
    raw = None if at_stake.raw is None else bounded_text(at_stake.raw, RAW_CHARS)
    return SignalFailed(
        at=utc_now(),
        signal_id=at_stake.signal_id,
        stage=stage,
        error_type=type(exc).__name__,
        error=bounded_text(str(exc), ERROR_CHARS),
        raw=raw,
    )


def failure_ack(signal_id: str | None, exc: BaseException) -> Ack:
    """What the sender hears: the internal error, and that a retry needs a new id."""
    error = bounded_text(f"{type(exc).__name__}: {exc}", ERROR_CHARS)
    reason = f"internal error, signal quarantined ({error}); to trade, send it with a new id"
    return Ack(id=signal_id, status="rejected", reason=reason)


def implicated_id(line: bytes | str) -> str | None:
    """A line's ``id`` if it has a string one, whatever else is wrong with it."""
    try:
        decoded = msgspec.json.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        # msgspec refuses deep nesting with RecursionError: this runs while another error
        # is on its way out, and must not replace it.
        return None
    value = decoded.get("id") if isinstance(decoded, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None


async def quarantine(
    journal: JournalSink, stage: FailureStage, at_stake: Sequence[AtStake], exc: BaseException
) -> None:
    """Make the failure durable, say so loudly, and ack whoever waits. Never raises: it runs
    while ``exc`` is on its way out, and must not replace it."""
    # Shielded: the failure that triggers this usually cancels the tasks around it.
    with trio.CancelScope(shield=True):
        records = [r for r in (failure_record(s, stage, exc) for s in at_stake) if r is not None]
        try:
            # Bounded: a journal stuck on its disk must not hold the daemon's stop forever.
            with trio.move_on_after(JOURNAL_WAIT) as waited:
                if records:
                    await journal.commit(*records)
            if waited.cancelled_caught:
                log.error("could not journal the failure of %s in time", _ids(at_stake))
        except Exception as journal_error:
            log.error("could not journal the failure of %s: %s", _ids(at_stake), journal_error)
        for stake in at_stake:
            log.error(
                "signal %s quarantined: its handling (%s) raised %s: %s; %s",
                stake.signal_id or "(no id)",
                stage.value,
                type(exc).__name__,
                bounded_text(str(exc), ERROR_CHARS),
                WHAT_TO_DO,
                extra={"signal_id": stake.signal_id, "stage": stage.value},
            )
            if stake.reply is not None:
                await _ack(stake.reply, failure_ack(stake.signal_id, exc))


async def _ack(reply: trio.MemorySendChannel[Ack], ack: Ack) -> None:
    with trio.move_on_after(ACK_WAIT):
        try:
            await reply.send(ack)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.info("signal %s: its source left before the ack", ack.id)


def is_poison(exc: BaseException) -> bool:
    """Whether an exception out of a handler quarantines its signal. A BadSignal is the
    answer for a bad line (a rejected ack), not a failure of its handling."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_poison(inner) for inner in exc.exceptions)
    return isinstance(exc, Exception) and not isinstance(exc, TradingError | BadSignal)


async def quarantined_call(
    handler: Callable[[], T],
    journal: JournalSink,
    stage: FailureStage,
    at_stake: AtStakeNow,
) -> T:
    """``handler()``; if it raises, the signals at stake are quarantined, then it re-raises."""
    try:
        return handler()
    except Exception as exc:
        if is_poison(exc):
            await quarantine(journal, stage, _listed(at_stake), exc)
        raise


async def quarantined_await(
    handler: Callable[[], Awaitable[T]],
    journal: JournalSink,
    stage: FailureStage,
    at_stake: AtStakeNow,
) -> T:
    """``await handler()``, quarantining the signals at stake if it raises."""
    try:
        return await handler()
    except Exception as exc:
        if is_poison(exc):
            await quarantine(journal, stage, _listed(at_stake), exc)
        raise


def _listed(at_stake: AtStakeNow) -> Sequence[AtStake]:
    return at_stake() if callable(at_stake) else at_stake


def _ids(at_stake: Sequence[AtStake]) -> str:
    return ", ".join(s.signal_id or "(no id)" for s in at_stake) or "(no signal)"
