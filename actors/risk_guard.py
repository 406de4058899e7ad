"""RiskGuard's loop: decisions are in-memory and immediate (``risk_core``), so it never
awaits I/O while deciding. A child task reads the account from the venue at most once per
``account_refresh_interval``, and at once after the venue refused an order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, assert_never

import trio

from actors.messages import Denied, Message, ReleaseReservation, RiskRequest
from actors.risk_core import RiskGuardCore
from brokers.base import Account, OrderUpdate, utc_now
from brokers.errors import BrokerError

log = logging.getLogger("tradingd.risk")


class Halt(Message, frozen=True, kw_only=True, tag="halt"):
    """The kill switch: no new risk until Resume. ``done`` (a trio.Event) is set once the
    halt is in force, so the caller knows every later decision sees it."""

    done: Any = None


class Resume(Message, frozen=True, kw_only=True, tag="resume"):
    """Lift a halt and a daily-loss latch."""

    done: Any = None


RiskInput = RiskRequest | OrderUpdate | ReleaseReservation | Halt | Resume


class AccountReader(Protocol):
    async def get_account(self) -> Account: ...


async def run_risk_guard(
    core: RiskGuardCore,
    inbox: trio.MemoryReceiveChannel[RiskInput],
    accounts: AccountReader | None = None,
    *,
    wall: Callable[[], datetime] = utc_now,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve decisions; with ``accounts``, keep the account snapshot fresh too."""
    wake_send, wake_recv = trio.open_memory_channel[None](1)
    async with trio.open_nursery() as nursery:
        if accounts is not None:
            nursery.start_soon(_refresh_account, core, accounts, wake_recv, wall)
        task_status.started()
        async with inbox:
            async for msg in inbox:
                await _handle(core, msg)
                if core.wants_refresh:
                    try:
                        wake_send.send_nowait(None)
                    except trio.WouldBlock:
                        pass  # a refresh is already due
        nursery.cancel_scope.cancel()


async def _handle(core: RiskGuardCore, msg: RiskInput) -> None:
    match msg:
        case RiskRequest():
            decision = core.decide(msg.request, msg.position_qty, trio.current_time())
            if isinstance(decision, Denied):
                log.info(
                    "denied %s: %s %s", decision.client_order_id, decision.code, decision.detail
                )
            reply: Any = msg.reply
            await reply.send(decision)
        case OrderUpdate():
            core.on_update(msg)
        case ReleaseReservation():
            core.release(msg.client_order_id)
        case Halt():
            core.halt()
            log.warning("halted: new entries are denied until resume")
            if msg.done is not None:
                msg.done.set()
        case Resume():
            core.resume()
            log.warning("resumed")
            if msg.done is not None:
                msg.done.set()
        case _:
            assert_never(msg)


async def _refresh_account(
    core: RiskGuardCore,
    accounts: AccountReader,
    wake: trio.MemoryReceiveChannel[None],
    wall: Callable[[], datetime],
) -> None:
    while True:
        with trio.move_on_after(core.limits.account_refresh_interval):
            await wake.receive()
        events_before = core.venue_events
        try:
            account = await accounts.get_account()
        except BrokerError as exc:
            # The snapshot ages; past max_account_age new entries are denied, not guessed.
            log.warning("account refresh failed: %s", exc)
            continue
        latch = core.set_account(account, trio.current_time(), wall(), events_before=events_before)
        if latch is not None:
            log.warning(
                "daily loss limit breached (loss %s from %s): latched %s",
                core.daily.loss(account.equity),
                core.daily.start_equity,
                latch,
            )
