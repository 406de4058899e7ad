"""The executor's own vocabulary: what its shell feeds back to it and the effects it carries out.

What other actors send an executor lives with every inter-actor message in
``actors.messages``; these never leave the executor's package.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from actors.messages import (
    Ack,
    AdoptOutsideFill,
    Approved,
    CancelEntries,
    Denied,
    ExecuteSignal,
    Message,
    PriceSeen,
    ResendIntent,
    ResumeFlip,
)
from brokers.base import OrderRequest, OrderUpdate, RequestPriority, VenueOrder

if TYPE_CHECKING:
    from decimal import Decimal

    import trio

    from actors.records import JournalRecord


# --- inputs the shell feeds back ------------------------------------------------------


class SubmitAccepted(Message, frozen=True, kw_only=True, tag="submit_accepted"):
    order: VenueOrder


class SubmitOutcome(enum.StrEnum):
    """How a submit that got no order back ended, as far as the venue's answer tells."""

    REJECTED = "rejected"  # the venue refused it (final)
    NOT_SENT = "not_sent"  # it never reached the venue: safe to send again
    UNKNOWN = "unknown"  # it may have arrived: looked up before anything else
    DUPLICATE_ID = "duplicate_id"  # the venue already holds an order with this id


class SubmitFailed(Message, frozen=True, kw_only=True, tag="submit_failed"):
    client_order_id: str
    outcome: SubmitOutcome
    reason: str
    retry_after: float | None = None


class OrderLookedUp(Message, frozen=True, kw_only=True, tag="order_looked_up"):
    client_order_id: str
    order: VenueOrder | None  # None: the venue never received it


class LookupFailed(Message, frozen=True, kw_only=True, tag="lookup_failed"):
    client_order_id: str
    reason: str
    retry_after: float | None = None


class CancelFailed(Message, frozen=True, kw_only=True, tag="cancel_failed"):
    client_order_id: str
    reason: str


ExecutorInput = (
    ExecuteSignal
    | Approved
    | Denied
    | SubmitAccepted
    | SubmitFailed
    | OrderLookedUp
    | LookupFailed
    | CancelFailed
    | ResendIntent
    | ResumeFlip
    | PriceSeen
    | OrderUpdate
    | AdoptOutsideFill
    | CancelEntries
)


# --- effects the shell carries out ------------------------------------------------------


@attrs.frozen
class AskRisk:
    request: OrderRequest
    position_qty: Decimal
    # No qty in the signal: RiskGuard sizes the order (``request.qty`` is 0 until then).
    size_by_policy: bool = False
    confidence: float | None = None
    signal_id: str | None = None  # whose order it is: RiskGuard quarantines it if it raises
    # Sized from the confirmed position (a target, a close, a leg of an order across zero):
    # never held back as a duplicate of another order.
    position_derived: bool = False
    # For RiskGuard's runaway breaker: signals queued behind this one, and signals that
    # arrived since the last request (this one's included).
    waiting: int = 0
    offered: int = 1


@attrs.frozen
class Submit:
    request: OrderRequest
    # It only reduces the position (an exit, a close, the to-flat leg of a flip): it goes
    # first wherever orders or venue requests wait their turn, so a fill is never left
    # unguarded behind a backlog of entries.
    protective: bool = False

    @classmethod
    def of(cls, request: OrderRequest, position_qty: Decimal) -> Submit:
        return cls(request, protective=reduces(request, position_qty))

    @property
    def priority(self) -> RequestPriority:
        """Its turn in the venue's request budget: protective orders before entries."""
        return RequestPriority.PROTECTIVE if self.protective else RequestPriority.NEW_ORDER


def reduces(request: OrderRequest, position_qty: Decimal) -> bool:
    """The order can only bring the position toward flat, never past it."""
    if position_qty == 0 or request.side.sign * position_qty > 0:
        return False
    return request.qty <= abs(position_qty)


@attrs.frozen
class ExitSent:
    """An exit goes out without asking RiskGuard: it still counts in the order-rate window."""

    client_order_id: str


@attrs.frozen
class Lookup:
    client_order_id: str


@attrs.frozen
class Cancel:
    client_order_id: str
    venue_order_id: str


@attrs.frozen
class Release:
    """Give the order's buying-power reservation back: it ended without a venue event."""

    client_order_id: str


@attrs.frozen
class Follow:
    """Route this order's updates here: an order the venue created for us (a bracket leg)."""

    client_order_id: str


@attrs.frozen
class Alert:
    """Something an operator must hear about (a position left without its exits)."""

    message: str


@attrs.frozen
class RecordInJournal:
    """Records to write; with ``ack``, the ack is sent only after they are durable."""

    records: tuple[JournalRecord, ...]
    ack: tuple[trio.MemorySendChannel[Ack], Ack] | None = None


Effect = AskRisk | Submit | ExitSent | Lookup | Cancel | Release | Follow | Alert | RecordInJournal
