"""The ids tradingd derives for its orders, and what they say back: whose order, which leg.

A client order id is ``td-<digest>-<leg>``: deterministic from the signal's id and the leg,
so a resend after a crash finds the order the venue already has instead of trading twice.
"""

from __future__ import annotations

import hashlib

_PREFIX = "td-"
# The longest client order id a venue takes.
_MAX_CHARS = 48


def client_order_id_for(signal_id: str, leg: str) -> str:
    """Deterministic, venue-safe (≤ 48 chars) id for one leg of one signal."""
    digest = hashlib.sha256(f"{signal_id}\x00{leg}".encode()).hexdigest()[:32]
    return f"{_PREFIX}{digest}-{leg}"[:_MAX_CHARS]


def is_own_client_order_id(client_order_id: str) -> bool:
    """True for ids tradingd derives; anything else at the venue was placed elsewhere."""
    return client_order_id.startswith(_PREFIX)


def leg_of(client_order_id: str) -> str | None:
    """The leg an id tradingd derived names (cut short as the id was); None for an id placed
    elsewhere, which names none."""
    if not is_own_client_order_id(client_order_id):
        return None
    _, dash, leg = client_order_id[len(_PREFIX) :].rpartition("-")
    return leg if dash else None
