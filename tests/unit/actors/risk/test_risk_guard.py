from __future__ import annotations

from decimal import Decimal as D

import msgspec

from actors.messages import Approved, Denied
from actors.prices import PriceBook
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from brokers.base import Account, Asset, OrderEvent, OrderStatus, OrderType, Side
from tests.builders import T0, request, update

# Only what these tests exercise: no flow controls or exposure caps in the way.
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


def guard(
    buying_power: str = "1000", price: str = "10", limits: RiskLimits = PLAIN
) -> RiskGuardCore:
    prices = PriceBook()
    prices.update("AAPL", D(price), now=0.0)
    core = RiskGuardCore(limits, prices)
    core.set_account(
        Account(cash=D(buying_power), buying_power=D(buying_power), equity=D(buying_power)),
        0.0,
        T0,
    )
    return core


def test_concurrent_buys_cannot_overspend() -> None:
    """Reservations of approved, unfilled orders count against buying power (003 TECL)."""
    core = guard("1000", "10")
    first = core.decide(request("a", qty="60"), D(0), now=1.0)
    second = core.decide(request("b", qty="60"), D(0), now=1.0)
    assert isinstance(first, Approved)
    assert first.reserved == D(600)
    assert isinstance(second, Denied)
    assert second.code == "insufficient_buying_power"


def test_final_state_releases_the_reservation() -> None:
    """A canceled order gives its reservation back."""
    core = guard("1000", "10")
    req = request("a", qty="60")
    core.decide(req, D(0), now=1.0)
    core.on_update(update(req, OrderEvent.CANCELED, OrderStatus.CANCELED))
    assert core.reserved == 0
    assert isinstance(core.decide(request("b", qty="60"), D(0), now=1.0), Approved)


def test_fill_moves_buying_power_and_shrinks_reservation() -> None:
    """A fill spends buying power at the fill price and releases its share of the reservation."""
    core = guard("1000", "10")
    req = request("a", qty="10")
    core.decide(req, D(0), now=1.0)
    core.on_update(
        update(
            req, OrderEvent.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED, "4", "9", ("e", "4", "9")
        )
    )
    assert core.buying_power == D(964)
    assert core.reserved == D(60)
    assert core.positions() == {"AAPL": D(4)}


def test_selling_a_long_needs_no_buying_power() -> None:
    """A sell within the long position is risk-reducing: approved even with none left."""
    core = guard("0", "10")
    decision = core.decide(request("s", side=Side.SELL, qty="5"), D(5), now=1.0)
    assert isinstance(decision, Approved)
    assert decision.reserved == 0


def test_stale_or_missing_price_denies_market_orders() -> None:
    """A market order with no fresh price is denied with a reason, never valued by a guess."""
    core = guard("1000", "10")
    core.set_account(Account(cash=D(1000), buying_power=D(1000), equity=D(1000)), 61.0, T0)
    stale = core.decide(request("a", qty="1"), D(0), now=61.0)
    unknown = core.decide(request("b", symbol="MSFT", qty="1"), D(0), now=1.0)
    assert isinstance(stale, Denied)
    assert stale.code == "no_price"
    assert isinstance(unknown, Denied)
    assert unknown.code == "no_price"


def test_limit_order_valued_at_its_limit() -> None:
    """A limit buy reserves qty times its limit price, whatever the last price is."""
    core = guard("1000", "10")
    decision = core.decide(
        request("a", qty="2", order_type=OrderType.LIMIT, limit_price="10.5"), D(0), now=1.0
    )
    assert isinstance(decision, Approved)
    assert decision.reserved == D(21)


def test_stale_account_is_never_used() -> None:
    """An account snapshot older than max_account_age denies new entries."""
    core = guard("1000", "10")
    core.prices.update("AAPL", D(10), now=100.0)
    decision = core.decide(request("a", qty="1"), D(0), now=100.0)
    assert isinstance(decision, Denied)
    assert decision.code == "account_stale"


def test_venue_refusal_asks_for_a_fresh_account() -> None:
    """An entry the venue refused (released without a venue event) makes a refresh due."""
    core = guard("1000", "10")
    core.decide(request("a", qty="10"), D(0), now=1.0)
    assert not core.wants_refresh
    core.release("a")
    assert core.wants_refresh
    assert core.reserved == 0


def test_halt_blocks_entries_but_lets_positions_close() -> None:
    """The kill switch denies new risk with code `halted`; a close still passes; resume lifts it."""
    core = guard("1000", "10")
    core.halt()
    entry = core.decide(request("a", qty="1"), D(0), now=1.0)
    close = core.decide(request("c", side=Side.SELL, qty="5"), D(5), now=1.0)
    assert isinstance(entry, Denied)
    assert entry.code == "halted"
    assert isinstance(close, Approved)
    core.resume()
    assert isinstance(core.decide(request("b", qty="1"), D(0), now=1.0), Approved)


def test_daily_loss_latch_reducing_allows_only_reductions() -> None:
    """A loss past the limit latches REDUCING: entries denied, reductions approved."""
    core = guard("1000", "10", msgspec.structs.replace(PLAIN, daily_loss_limit=D("0.05")))
    down = Account(cash=D(940), buying_power=D(940), equity=D(940))
    assert core.set_account(down, 1.0, T0) == "reducing"
    entry = core.decide(request("a", qty="1"), D(0), now=1.0)
    assert isinstance(entry, Denied)
    assert entry.code == "daily_loss_reducing"
    assert isinstance(core.decide(request("s", side=Side.SELL, qty="1"), D(1), now=1.0), Approved)


def test_daily_loss_latch_halted_stops_everything() -> None:
    """In `halted` mode a breach stops even risk-reducing orders until resume."""
    limits = msgspec.structs.replace(PLAIN, daily_loss_limit=D("0.05"), loss_latch="halted")
    core = guard("1000", "10", limits)
    core.set_account(Account(cash=D(900), buying_power=D(900), equity=D(900)), 1.0, T0)
    sell = core.decide(request("s", side=Side.SELL, qty="1"), D(1), now=1.0)
    assert isinstance(sell, Denied)
    assert sell.code == "daily_loss_halted"
    core.resume()
    assert isinstance(core.decide(request("a", qty="1"), D(0), now=1.0), Approved)


def test_whole_share_asset_refuses_fractions() -> None:
    """A non-fractionable asset refuses 0.5 shares before the venue sees it (000)."""
    core = guard("1000", "10")
    core.assets = {"AAPL": Asset(symbol="AAPL", tradable=True, fractionable=False)}
    decision = core.decide(request("a", qty="0.5"), D(0), now=1.0)
    assert isinstance(decision, Denied)
    assert decision.code == "fraction_not_allowed"


def test_resting_limit_order_is_not_counted_twice_after_a_refresh() -> None:
    """The venue's buying power already excludes a resting limit order's hold; a refresh
    gives that back, so the order is reserved once, not twice."""
    core = guard("1000", "10")
    resting = request("r", qty="50", order_type=OrderType.LIMIT, limit_price="10")
    core.decide(resting, D(0), now=1.0)
    core.on_update(update(resting, OrderEvent.NEW, OrderStatus.NEW))
    held = Account(cash=D(1000), buying_power=D(500), equity=D(1000))
    core.set_account(held, 2.0, T0, read=core.begin_account_read())
    assert core.buying_power is not None
    assert core.buying_power - core.reserved == D(500)
    assert isinstance(core.decide(request("b", qty="50"), D(0), now=2.0), Approved)


def test_limit_fill_racing_a_refresh_never_overstates_buying_power() -> None:
    """A snapshot read after the venue filled a limit order below its limit, applied before
    the fill's update, leaves buying power no higher than the venue's after the update."""
    core = guard("1000", "10")
    resting = request("r", qty="50", order_type=OrderType.LIMIT, limit_price="10")
    core.decide(resting, D(0), now=1.0)
    core.on_update(update(resting, OrderEvent.NEW, OrderStatus.NEW))
    after_fill = Account(cash=D(550), buying_power=D(550), equity=D(1000))  # filled at 9
    core.set_account(after_fill, 2.0, T0, read=core.begin_account_read())
    core.on_update(
        update(resting, OrderEvent.FILL, OrderStatus.FILLED, "50", "9", ("e", "50", "9"))
    )
    assert core.buying_power is not None
    assert core.buying_power <= D(550)
    assert core.reserved == 0


def test_a_long_is_reduced_only_once_by_concurrent_sells() -> None:
    """Two sells of a 5-share long: the first reduces it; the second opens a short and
    needs buying power, so with none it is denied."""
    core = guard("0", "10")
    first = core.decide(request("s1", side=Side.SELL, qty="5"), D(5), now=1.0)
    second = core.decide(request("s2", side=Side.SELL, qty="5"), D(5), now=1.0)
    assert isinstance(first, Approved)
    assert isinstance(second, Denied)
    assert second.code == "insufficient_buying_power"


def test_stream_down_denies_entries_but_not_reductions() -> None:
    """With refuse_entries_when_stream_down, entries wait for the stream; closes pass."""
    limits = msgspec.structs.replace(PLAIN, refuse_entries_when_stream_down=True)
    core = guard("1000", "10", limits)
    core.set_stream_health(False)
    entry = core.decide(request("a", qty="1"), D(0), now=1.0)
    assert isinstance(entry, Denied)
    assert entry.code == "stream_unhealthy"
    assert isinstance(core.decide(request("s", side=Side.SELL, qty="1"), D(1), now=1.0), Approved)
    core.set_stream_health(True)
    assert isinstance(core.decide(request("b", qty="1"), D(0), now=1.0), Approved)


def test_stream_down_is_ignored_unless_configured() -> None:
    """By default a down stream denies nothing: REST polling keeps fills known."""
    core = guard("1000", "10")
    core.set_stream_health(False)
    assert isinstance(core.decide(request("a", qty="1"), D(0), now=1.0), Approved)


def test_state_record_is_handed_out_only_on_change() -> None:
    """The halt and latch are journaled when they change, not on every account read."""
    core = guard("1000", "10", msgspec.structs.replace(PLAIN, daily_loss_limit=D("0.05")))
    first = core.state_record(T0)
    assert first is not None
    assert not first.halted
    assert first.start_equity == D(1000)
    assert core.state_record(T0) is None
    core.halt()
    halted = core.state_record(T0)
    assert halted is not None
    assert halted.halted
    core.set_account(Account(cash=D(900), buying_power=D(900), equity=D(900)), 1.0, T0)
    latched = core.state_record(T0)
    assert latched is not None
    assert latched.latched == "reducing"
    assert latched.halted


def test_new_sector_map_rebuilds_the_sector_sums() -> None:
    """A reload that moves a held symbol into a capped sector counts it there at once."""
    limits = msgspec.structs.replace(
        PLAIN, max_gross_exposure=D(10), sector_caps={"tech": D("0.5")}
    )
    core = guard("100000", "10", limits)
    core.prices.update("MSFT", D(10), now=0.0)
    core.load_positions({"AAPL": D(100), "MSFT": D(100)})
    core.set_limits(msgspec.structs.replace(limits, sectors={"AAPL": "tech"}))
    decision = core.decide(request("a", qty="50"), D(100), now=1.0)
    assert isinstance(decision, Denied)
    assert decision.code == "sector_cap"


def test_only_orders_that_never_traded_leave_the_duplicate_window() -> None:
    """Refused by the venue with nothing filled, or never sent: the trader's identical resend
    passes. Partly filled before the refusal, or canceled after working: still a duplicate."""
    core = guard("100000", "10", msgspec.structs.replace(PLAIN, duplicate_window=60.0))

    def resend_after(first: str, qty: str, ending: str) -> Approved | Denied:
        req = request(first, qty=qty)
        assert isinstance(core.decide(req, D(0), now=1.0), Approved)
        match ending:
            case "refused":
                core.on_update(update(req, OrderEvent.REJECTED, OrderStatus.REJECTED))
            case "partly filled, refused":
                core.on_update(update(req, OrderEvent.REJECTED, OrderStatus.REJECTED, "1", "10"))
            case "canceled":
                core.on_update(update(req, OrderEvent.CANCELED, OrderStatus.CANCELED))
            case "never sent":
                core.release(first)
        # A refusal asks for a fresh account; give it one so only the window decides.
        core.set_account(Account(cash=D(100000), buying_power=D(100000), equity=D(100000)), 2.0, T0)
        return core.decide(request(f"{first}-again", qty=qty), D(0), now=2.0)

    assert isinstance(resend_after("a", "5", "refused"), Approved)
    assert isinstance(resend_after("b", "6", "never sent"), Approved)
    for first, qty, ending in (("c", "7", "partly filled, refused"), ("d", "8", "canceled")):
        decision = resend_after(first, qty, ending)
        assert isinstance(decision, Denied), ending
        assert decision.code == "duplicate_order"
