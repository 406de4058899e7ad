"""The startup gate lists every open order, past the venue's page size, legs included."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from actors.reconciler.open_orders import list_open_orders
from actors.reconciler.venue_view import recent_orders
from brokers.base import OrderStatus, VenueOrder, utc_now
from tests.builders import T0, request, venue_order

if TYPE_CHECKING:
    import pytest


@attrs.define
class PagedVenue:
    """The venue's listing rule at the edge: created strictly after ``after``, oldest first,
    at most ``limit``; it records how it was asked."""

    orders: list[VenueOrder]
    asked: list[tuple[datetime | None, int, bool]] = attrs.field(factory=list)

    async def list_orders(
        self, *, status: str, after: datetime | None, limit: int, nested: bool
    ) -> list[VenueOrder]:
        assert status in ("open", "all")
        self.asked.append((after, limit, nested))
        return [o for o in self.orders if after is None or o.submitted_at > after][:limit]


def orders(count: int, *, same_time_every: int = 1, start: datetime = T0) -> list[VenueOrder]:
    made = []
    for n in range(count):
        order = venue_order(request(f"td-{n}-entry"), OrderStatus.NEW, venue_id=f"v-{n}")
        at = start + timedelta(microseconds=n // same_time_every)
        made.append(order.__class__(**{**_fields(order), "submitted_at": at}))
    return made


def _fields(order: VenueOrder) -> dict[str, Any]:
    return {f: getattr(order, f) for f in order.__struct_fields__}


async def test_more_open_orders_than_a_page_are_all_listed_once() -> None:
    """1,234 open orders on pages of 500: each listed exactly once, legs not nested."""
    venue = PagedVenue(orders(1234, same_time_every=3))
    listed = await list_open_orders(venue, page=500)  # type: ignore[arg-type]
    assert [o.venue_order_id for o in listed] == [o.venue_order_id for o in venue.orders]
    assert len(venue.asked) >= 3
    assert all(not nested for _, _, nested in venue.asked)


async def test_a_page_that_ends_on_a_shared_timestamp_skips_none_of_it() -> None:
    """Orders sharing the last timestamp of a page are listed on the next one too."""
    venue = PagedVenue(orders(10, same_time_every=2))
    listed = await list_open_orders(venue, page=3)  # type: ignore[arg-type]
    assert [o.venue_order_id for o in listed] == [o.venue_order_id for o in venue.orders]


async def test_a_full_page_on_one_timestamp_is_reported_not_looped_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Paging by time cannot pass a page of equal times: it stops and says so."""
    venue = PagedVenue(orders(10, same_time_every=4))
    listed = await list_open_orders(venue, page=3)  # type: ignore[arg-type]
    assert len(listed) == 3
    assert "the list may be incomplete" in caplog.text


async def test_one_page_is_enough_for_a_quiet_account() -> None:
    """Fewer open orders than a page: a single request."""
    venue = PagedVenue(orders(2))
    assert len(await list_open_orders(venue)) == 2  # type: ignore[arg-type]
    assert venue.asked == [(None, 500, False)]
    assert Decimal(venue.orders[0].qty) == Decimal(10)


async def test_the_reconcilers_recent_orders_are_every_page_with_legs_nested() -> None:
    """A busy day past one page: drift checks see its newest orders too, and legs stay under
    their parents (a venue-named leg of ours must never look like an outside order)."""
    venue = PagedVenue(orders(1234, start=utc_now() - timedelta(hours=1)))
    listed = await recent_orders(venue)  # type: ignore[arg-type]
    assert [o.venue_order_id for o in listed] == [o.venue_order_id for o in venue.orders]
    assert len(venue.asked) >= 3
    assert all(nested for _, _, nested in venue.asked)
