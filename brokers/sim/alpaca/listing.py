"""GET /v2/orders query parameters and the selection they make. Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs

from brokers.sim.core.orders import CLOSED_STATUSES, SimOrder, unprocessable

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@attrs.frozen
class OrderQuery:
    status: str = "open"
    limit: int = DEFAULT_LIMIT
    after: datetime | None = None
    until: datetime | None = None
    direction: str = "desc"
    symbols: frozenset[str] | None = None
    side: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> OrderQuery:
        """Read Alpaca's query parameters; a bad value is 422."""
        status = params.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise unprocessable(f"invalid status {status}")
        direction = params.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise unprocessable(f"invalid direction {direction}")
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            raise unprocessable("invalid limit") from None
        if limit <= 0:
            raise unprocessable("invalid limit")
        symbols = params.get("symbols")
        side = params.get("side")
        if side not in (None, "buy", "sell"):
            raise unprocessable(f"invalid side {side}")
        return cls(
            status=status,
            limit=min(limit, MAX_LIMIT),
            after=_moment(params.get("after"), "after"),
            until=_moment(params.get("until"), "until"),
            direction=direction,
            symbols=frozenset(s.strip().upper() for s in symbols.split(",")) if symbols else None,
            side=side,
        )

    def select(self, orders: Iterable[SimOrder]) -> list[SimOrder]:
        """The matching orders (``orders`` oldest first), in the asked direction, limited."""
        chosen = [o for o in orders if self._matches(o)]
        if self.direction == "desc":
            chosen.reverse()
        return chosen[: self.limit]

    def _matches(self, order: SimOrder) -> bool:
        closed = order.status in CLOSED_STATUSES
        if (self.status == "open" and closed) or (self.status == "closed" and not closed):
            return False
        if self.after is not None and order.created_at <= self.after:
            return False
        if self.until is not None and order.created_at >= self.until:
            return False
        if self.symbols is not None and order.symbol not in self.symbols:
            return False
        return self.side is None or order.side.value == self.side


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise unprocessable(f"invalid {name}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
