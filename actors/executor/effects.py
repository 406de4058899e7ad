"""The executor's own vocabulary: what its shell feeds back to it and the effects it carries out.

What other actors send an executor lives with every inter-actor message in
``actors.messages``; these never leave the executor's package.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import trio

from actors.messages import (
    Ack,
    AdoptOutsideFill,
    Approved,
    Denied,
    ExecuteSignal,
    Message,
    PriceSeen,
    ResendIntent,
    ResumeFlip,
)
from actors.records import JournalRecord
from brokers.base import OrderRequest, OrderUpdate, VenueOrder

# --- inputs the shell feeds back ------------------------------------------------------


class SubmitAccepted(Message, frozen=True, kw_only=True, tag="submit_accepted"):
    order: VenueOrder


class SubmitFailed(Message, frozen=True, kw_only=True, tag="submit_failed"):
    client_order_id: str
    # rejected: the venue refused it (final); not_sent: it never reached the venue;
    # unknown: it may have arrived; duplicate_id: the venue already has this id.
    outcome: str
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


@attrs.frozen
class Submit:
    request: OrderRequest


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


Effect = AskRisk | Submit | Lookup | Cancel | Release | Follow | Alert | RecordInJournal
