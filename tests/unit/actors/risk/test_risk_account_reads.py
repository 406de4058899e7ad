"""An account read that fills and acks landed during is kept and corrected, never dropped,
and never leaves buying power above what the venue holds once every event is in."""

from __future__ import annotations

from decimal import Decimal as D

from actors.messages import Approved, Denied
from actors.prices import PriceBook
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from brokers.base import Account, OrderEvent, OrderStatus, OrderType, Side
from tests.builders import T0, request, update

# Buying power is what these tests watch: no flow controls or exposure caps in the way.
PLAIN = RiskLimits(
    market_slippage=D(0),
    duplicate_window=0,
    max_orders_per_second=None,
    max_orders_per_minute=None,
    max_gross_exposure=None,
    max_net_exposure=None,
    max_position_notional=None,
    trading_day="session",
)


def guard(buying_power: str, price: str) -> RiskGuardCore:
    prices = PriceBook()
    prices.update("AAPL", D(price), now=0.0)
    core = RiskGuardCore(PLAIN, prices)
    core.set_account(account(buying_power), 0.0, T0)
    return core


def account(buying_power: str) -> Account:
    return Account(cash=D(buying_power), buying_power=D(buying_power), equity=D(1000))


def available(core: RiskGuardCore) -> D:
    assert core.buying_power is not None
    return core.buying_power - core.reserved


def market_fill_during_a_read(venue_buying_power: str) -> D:
    """A market buy of 10 at 10 fills while the account is read; the snapshot says
    ``venue_buying_power``. Returns what is available once it is applied."""
    core = guard("1000", "10")
    buy = request("a", qty="10")
    core.decide(buy, D(0), now=1.0)
    read = core.begin_account_read()
    core.on_update(update(buy, OrderEvent.FILL, OrderStatus.FILLED, "10", "10", ("e", "10", "10")))
    core.set_account(account(venue_buying_power), 2.0, T0, read=read)
    return available(core)


def test_a_snapshot_read_during_a_fill_is_kept() -> None:
    """Under a fill landing mid-read the snapshot is still taken: entries are not starved
    into account_stale (the read's age is the new one)."""
    core = guard("1000", "10")
    buy = request("a", qty="10")
    core.decide(buy, D(0), now=1.0)
    read = core.begin_account_read()
    core.on_update(update(buy, OrderEvent.FILL, OrderStatus.FILLED, "10", "10", ("e", "10", "10")))
    core.set_account(account("1000"), 100.0, T0, read=read)
    core.prices.update("AAPL", D(10), now=100.0)
    assert isinstance(core.decide(request("b", qty="1"), D(10), now=100.0), Approved)


def test_a_fill_the_snapshot_missed_is_charged_on_top() -> None:
    """Snapshot from before the fill (1000): the fill's 100 is taken off, exactly 900."""
    assert market_fill_during_a_read("1000") == D(900)


def test_a_fill_the_snapshot_holds_is_never_credited_back() -> None:
    """Snapshot from after the fill (900): charged again (800), never above the truth; the
    next read with nothing landing is exact again."""
    assert market_fill_during_a_read("900") == D(800)
    core = guard("1000", "10")
    core.set_account(account("900"), 3.0, T0, read=core.begin_account_read())
    assert available(core) == D(900)


def test_a_limit_order_acked_during_a_read_never_has_its_hold_given_back() -> None:
    """A resting limit buy (50 at 10) acked mid-read: a snapshot without its hold leaves the
    500 reserved once (exact); one with it counts it twice (understated, never over)."""
    results = {}
    for label, venue in (("missed", "1000"), ("held", "500")):
        core = guard("1000", "10")
        resting = request("r", qty="50", order_type=OrderType.LIMIT, limit_price="10")
        core.decide(resting, D(0), now=1.0)
        read = core.begin_account_read()
        core.on_update(update(resting, OrderEvent.NEW, OrderStatus.NEW))
        core.set_account(account(venue), 2.0, T0, read=read)
        results[label] = available(core)
    assert results == {"missed": D(500), "held": D(0)}


def test_a_limit_fill_during_a_read_never_overstates_either_way() -> None:
    """A resting limit buy (50 at 10, acked before the read) fills at 9 mid-read: whether
    the snapshot holds the order (500) or the fill (550), at most 550 is available."""
    for venue in ("500", "550"):
        core = guard("1000", "10")
        resting = request("r", qty="50", order_type=OrderType.LIMIT, limit_price="10")
        core.decide(resting, D(0), now=1.0)
        core.on_update(update(resting, OrderEvent.NEW, OrderStatus.NEW))
        read = core.begin_account_read()
        core.on_update(
            update(resting, OrderEvent.FILL, OrderStatus.FILLED, "50", "9", ("e", "50", "9"))
        )
        core.set_account(account(venue), 2.0, T0, read=read)
        assert available(core) <= D(550), venue


def test_a_sale_during_a_read_adds_no_proceeds_the_snapshot_lacks() -> None:
    """A closing sell fills mid-read: its proceeds count only once a snapshot holds them."""
    for venue, expected in (("1000", D(1000)), ("1100", D(1100))):
        core = guard("1000", "10")
        sell = request("s", side=Side.SELL, qty="10")
        core.decide(sell, D(10), now=1.0)
        read = core.begin_account_read()
        core.on_update(
            update(sell, OrderEvent.FILL, OrderStatus.FILLED, "10", "10", ("e", "10", "10"))
        )
        core.set_account(account(venue), 2.0, T0, read=read)
        assert available(core) == expected


def test_a_failed_read_leaves_no_correction_behind() -> None:
    """A read that failed is forgotten: the next one, with nothing landing, is exact."""
    core = guard("1000", "10")
    buy = request("a", qty="10")
    core.decide(buy, D(0), now=1.0)
    failed = core.begin_account_read()
    core.on_update(update(buy, OrderEvent.FILL, OrderStatus.FILLED, "10", "10", ("e", "10", "10")))
    core.account_read_failed(failed)
    core.set_account(account("900"), 2.0, T0, read=core.begin_account_read())
    assert available(core) == D(900)


def test_an_entry_past_what_a_corrected_read_allows_is_denied() -> None:
    """The corrected figure is the one decided on: 900 left after the mid-read fill denies
    a 1000 entry for buying power."""
    core = guard("1000", "10")
    buy = request("a", qty="10")
    core.decide(buy, D(0), now=1.0)
    read = core.begin_account_read()
    core.on_update(update(buy, OrderEvent.FILL, OrderStatus.FILLED, "10", "10", ("e", "10", "10")))
    core.set_account(account("1000"), 2.0, T0, read=read)
    decision = core.decide(request("b", qty="95"), D(10), now=2.0)
    assert isinstance(decision, Denied)
    assert decision.code == "insufficient_buying_power"
