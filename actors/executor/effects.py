"""The executor's vocabulary: the inputs its shell feeds back and the effects it carries out.

Kept apart from the decisions (``core``) so the trio shell, the core and the
bracket logic share one set of types without importing each other.
"""

from __future__ import annotations

import enum
import hashlib
from decimal import Decimal
from typing import Any

import attrs

from actors.messages import Ack, Approved, Denied, ExecuteSignal, Message, Signal
from actors.records import JournalRecord
from brokers.base import OrderRequest, OrderUpdate, VenueOrder


def client_order_id_for(signal_id: str, leg: str) -> str:
    """Deterministic, venue-safe (≤ 48 chars) id for one leg of one signal."""
    digest = hashlib.sha256(f"{signal_id}\x00{leg}".encode()).hexdigest()[:32]
    return f"{_PREFIX}{digest}-{leg}"[:48]


_PREFIX = "td-"


def is_own_client_order_id(client_order_id: str) -> bool:
    """True for ids tradingd derives; anything else at the venue was placed elsewhere."""
    return client_order_id.startswith(_PREFIX)


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


class LookupDone(Message, frozen=True, kw_only=True, tag="lookup_done"):
    client_order_id: str
    order: VenueOrder | None  # None: the venue never received it


class LookupFailed(Message, frozen=True, kw_only=True, tag="lookup_failed"):
    client_order_id: str
    reason: str
    retry_after: float | None = None


class ResendIntent(Message, frozen=True, kw_only=True, tag="resend_intent"):
    """An intent journaled before a crash that the venue never received (found at startup):
    approved then, acked then, so it is sent now without asking again."""

    request: OrderRequest


class ResumeFlip(Message, frozen=True, kw_only=True, tag="resume_flip"):
    """A signal across zero interrupted after its flat leg's intent (found at startup): its
    open leg, to ``goal``, follows once that leg is final and the position is flat."""

    symbol: str  # the executor's (the signal's may be an alias)
    signal: Signal
    flat_leg: str  # the flat leg's client_order_id
    goal: Decimal


class CancelFailed(Message, frozen=True, kw_only=True, tag="cancel_failed"):
    client_order_id: str
    reason: str


class PriceSeen(Message, frozen=True, kw_only=True, tag="price_seen"):
    """A trade price for the symbol, fed in while a stop is held by the executor."""

    price: Decimal


class AdoptOutsideFill(Message, frozen=True, kw_only=True, tag="adopt_outside_fill"):
    """The venue's record of an order placed outside tradingd, with fills in the executor's
    symbol: taken into its position (``actors.executor.core_outside_fills``). The executor answers on
    ``reply`` (an ``Ack``) once what it took is durable."""

    order: VenueOrder
    reply: Any  # trio.MemorySendChannel[Ack]


ExecutorInput = (
    ExecuteSignal
    | Approved
    | Denied
    | SubmitAccepted
    | SubmitFailed
    | LookupDone
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
class Journal:
    """Records to write; with ``ack``, the ack is sent only after they are durable."""

    records: tuple[JournalRecord, ...]
    ack: tuple[Any, Ack] | None = None


Effect = AskRisk | Submit | Lookup | Cancel | Release | Follow | Alert | Journal
