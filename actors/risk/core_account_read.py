"""An account read in flight: what happened to our orders while the venue answered.

The venue's snapshot is taken at some instant inside the read, so each event that landed
meanwhile (an acknowledgement, a fill, a final state) may or may not be in it. Dropping the
snapshot whenever one landed starves the account under steady fills; instead the snapshot
is taken and corrected, each correction in the direction that can never overstate buying
power (``RiskGuardCore.set_account``):

- an order touched during the read gets no hold given back: if the venue held it, the
  hold is counted twice (by the venue and by the reservation) until the next read; if it
  did not, giving it back would have counted buying power that is not there;
- every opening fill during the read is charged again on top: if the venue already
  charged it, it is charged twice until the next read; if not, it is charged once, as due;
- a closing fill's proceeds are never added: if the venue already counted them they are
  in the snapshot, if not they arrive with the next read.

The error is always on the side of less buying power, and it lasts one read: the next
snapshot, read while nothing lands, is exact again. Pure: no I/O.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

ZERO = Decimal(0)


@attrs.define
class AccountRead:
    """The events of one account read, from the moment it was asked for."""

    # Orders with any venue event since the read began: their hold may or may not be in it.
    touched: set[str] = attrs.field(factory=set)
    # Buying power that opening fills since the read began took (charged again on top).
    charged: Decimal = ZERO

    def order_event(self, client_order_id: str) -> None:
        self.touched.add(client_order_id)

    def opening_fill(self, cost: Decimal) -> None:
        self.charged += cost


@attrs.define
class AccountReads:
    """The reads in flight (one, usually: the refresh task reads one at a time)."""

    _open: list[AccountRead] = attrs.field(factory=list)

    def begin(self) -> AccountRead:
        read = AccountRead()
        self._open.append(read)
        return read

    def end(self, read: AccountRead) -> None:
        """The read answered or failed: its events no longer matter."""
        self._open = [r for r in self._open if r is not read]

    def order_event(self, client_order_id: str) -> None:
        for read in self._open:
            read.order_event(client_order_id)

    def opening_fill(self, cost: Decimal) -> None:
        for read in self._open:
            read.opening_fill(cost)

    def __len__(self) -> int:
        return len(self._open)
