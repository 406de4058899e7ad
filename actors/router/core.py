"""The router's decisions: dedupe, and which executor (or the rebalance) a signal goes to. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from actors.messages import Action, Signal

if TYPE_CHECKING:
    from collections.abc import Callable


@attrs.frozen
class Reject:
    reason: str


@attrs.frozen
class Duplicate:
    reason: str


@attrs.frozen
class ToExecutor:
    symbol: str


@attrs.frozen
class ToRebalance:
    """A rebalance: planned from the book, then sent back in as one target per symbol."""


Route = Reject | Duplicate | ToExecutor | ToRebalance


@attrs.define
class SignalRouterCore:
    """Dedupe and symbol checks; ``tradable`` None means the venue's list is not known."""

    tradable: frozenset[str] | None = None
    # Whether a sizing policy is configured (asked per signal: a reload may change it);
    # with one, buys and sells may leave out ``qty``.
    sized_entries: Callable[[], bool] = lambda: False
    _seen: set[str] = attrs.field(factory=set)

    def has_seen(self, signal_id: str) -> bool:
        """Whether this id was taken already (a signal with it acks ``duplicate``)."""
        return signal_id in self._seen

    def remember(self, signal_ids: set[str]) -> None:
        """Ids already accepted before a restart, from the journal."""
        self._seen |= signal_ids

    def route(self, signal: Signal) -> Route:
        if signal.id in self._seen:
            return Duplicate(f"signal id {signal.id!r} was already received")
        route = self._destination(signal)
        if not isinstance(route, Reject):
            # Seen from here on, whatever the executor decides: an id is never traded twice.
            self._seen.add(signal.id)
        return route

    def route_again(self, signal: Signal) -> Route:
        """Where a signal accepted before a restart but never worked goes now. Its id is
        spent already (a resend is a duplicate); this is its one replay."""
        self._seen.add(signal.id)
        return self._destination(signal)

    def _destination(self, signal: Signal) -> Route:
        if signal.action is Action.REBALANCE:
            assert signal.targets is not None  # the Signal validates this
            unknown = sorted(s for s in signal.targets if not self._tradable(s.upper()))
            if unknown:
                return Reject(f"unknown or untradable symbols {unknown}")
            return ToRebalance()
        assert signal.symbol is not None  # the Signal validates this
        symbol = signal.symbol.upper()
        if not self._tradable(symbol):
            return Reject(f"unknown or untradable symbol {signal.symbol!r}")
        return ToExecutor(symbol)

    def _tradable(self, symbol: str) -> bool:
        return self.tradable is None or symbol in self.tradable
