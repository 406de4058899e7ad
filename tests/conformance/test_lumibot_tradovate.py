"""lumibot's Tradovate broker judges the venue's Tradovate REST front.

lumibot is test-only and installed without its declared dependencies (the few it really
needs are pinned in tests/conformance/requirements-lumibot.txt). It polls Tradovate over
REST with ``requests``: every call to it runs in a worker thread, bounded by a deadline, on
real loopback sockets. Its answers are read back in lumibot's own types (``Order``,
``Position``, its balance triple) and compared with what the venue holds.

lumibot guesses some of Tradovate's wire format; where it guesses wrong the tests say so
and pin what it then reads, so a change on either side shows here.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import trio
from lumibot.brokers.tradovate import Tradovate, TradovateAPIError
from lumibot.entities import Asset, Order

from brokers.sim import SimConfig, SimControl
from tests.conformance.conftest import Venue, serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from brokers.sim.tradovate.front import TradovateFront

# lumibot also registers its old top-level names (``entities``, ``entities.bar`` ...) in
# sys.modules as lazy aliases: reading any attribute of one, even ``__file__`` as
# Hypothesis does of every module, imports lumibot's whole backtesting stack, whose
# dependencies are not installed. Nothing here uses those old names.
for _alias in [name for name in sys.modules if name.split(".")[0] == "entities"]:
    del sys.modules[_alias]

# A Thursday morning in Chicago: Globex is open, MNQZ6 is the front contract.
START = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
USERNAME, PASSWORD = "judge", "judge-password"
CONTRACT = "MNQZ6"
PRICE = Decimal("21000.00")
# Loopback answers in milliseconds; a call still running after this is a hung venue.
PATIENCE = 20.0
T = TypeVar("T")


async def blocking(call: Callable[[], T]) -> T:
    """One blocking lumibot call in a worker thread, abandoned (and failed) past PATIENCE."""
    with trio.fail_after(PATIENCE):
        return await trio.to_thread.run_sync(call, abandon_on_cancel=True)


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    config = SimConfig(
        start_time=START,
        futures_prices={CONTRACT: PRICE},
        tradovate_username=USERNAME,
        tradovate_password=PASSWORD,
    )
    async with serving(config) as running:
        yield running


async def lumibot_broker(venue: Venue, password: str = PASSWORD) -> Any:
    """lumibot's broker pointed at the venue, not yet connected."""
    # lumibot logs every call at INFO; the tests read its results instead.
    logging.getLogger("lumibot").setLevel(logging.WARNING)
    config = {
        "USERNAME": USERNAME,
        "DEDICATED_PASSWORD": password,
        "CID": 8,
        "SECRET": "judge-secret",
        "CONNECT_ON_INIT": False,
    }
    broker = await blocking(lambda: Tradovate(config=config))
    # lumibot builds its URL from IS_PAPER alone; every call reads this attribute.
    broker.trading_api_url = venue.endpoints.tradovate_url
    # lumibot skips fills older than its own start by the machine's clock; here the
    # venue's clock is the world's.
    broker._fill_bootstrap_cutoff = front_of(venue).clock()
    return broker


@pytest.fixture
async def broker(venue: Venue) -> Any:
    """lumibot's broker logged in: accesstokenrequest, account/list, user/list."""
    broker = await lumibot_broker(venue)
    await blocking(broker._ensure_connected)
    return broker


def front_of(venue: Venue) -> TradovateFront:
    return venue.state.tradovate


def futures_order(side: str, contract: str = CONTRACT, **prices: float) -> Any:
    return Order("judge", Asset(contract, asset_type=Asset.AssetType.FUTURE), 1, side, **prices)


async def balances(broker: Any) -> tuple[Decimal, Decimal, Decimal]:
    """lumibot's (cash, positions value, portfolio value), fetched now."""
    broker._last_balance_sync = None  # lumibot caches the snapshot for 30 s
    usd = Asset("USD", asset_type=Asset.AssetType.FOREX)
    figures = await blocking(lambda: broker._get_balances_at_broker(usd, None))
    cash, positions_value, portfolio = (Decimal(str(figure)) for figure in figures)
    return cash, positions_value, portfolio


async def test_login_reads_tokens_account_and_user(broker: Any, venue: Venue) -> None:
    """lumibot logs in and finds both tokens, the account (id and name) and the user."""
    front = front_of(venue)
    assert broker.account_id == front.account_id
    assert broker.account_spec == front.account_name
    assert broker.user_id == front.user_id
    assert front.access_user(broker.trading_token) == front.user_id
    # lumibot refuses a login answer without mdAccessToken, which the venue sends.
    assert front.md_access_user(broker.market_token) == front.user_id


async def test_wrong_password_is_refused_with_error_text(venue: Venue) -> None:
    """A wrong password reaches lumibot as Tradovate's errorText, and no token."""
    broker = await lumibot_broker(venue, password="wrong")
    with pytest.raises(TradovateAPIError, match="Incorrect username or password"):
        await blocking(broker._ensure_connected)
    assert broker.trading_token is None


async def test_market_order_fill_position_and_money(broker: Any, venue: Venue) -> None:
    """A market buy fills; lumibot reads its fill, the long position and the open P&L."""
    assert await balances(broker) == (Decimal(100000), 0, Decimal(100000))
    order = await blocking(lambda: broker._submit_order(futures_order("buy")))
    assert order.status == Order.OrderStatus.NEW, order.error_message
    order_id = int(order.identifier)
    found = await blocking(lambda: broker._pull_broker_order(order_id))
    assert found.status == Order.OrderStatus.FILLED
    assert (found.side, found.asset.symbol) == ("buy", CONTRACT)
    price, qty = await blocking(lambda: broker._fetch_recent_fill_details(order_id))
    assert (price, qty) == (float(PRICE), 1.0)
    positions = await blocking(lambda: broker._pull_positions(None))
    assert [(p.asset.symbol, p.quantity, p.avg_fill_price) for p in positions] == [
        (CONTRACT, 1, PRICE)
    ]
    async with SimControl(venue.endpoints) as control:
        await control.set_prices({CONTRACT: "21010.25"})
    # 10.25 points up on one MNQ at $2 a point: $20.50 open, no cash moved yet.
    assert await balances(broker) == (Decimal(100000), Decimal("20.50"), Decimal("100020.50"))


async def test_limit_order_is_listed_working_then_cancelled(broker: Any) -> None:
    """A limit buy below the market lists as working and lumibot's cancel cancels it."""
    limit = float(PRICE - 100)
    order = await blocking(lambda: broker._submit_order(futures_order("buy", limit_price=limit)))
    assert order.status == Order.OrderStatus.NEW, order.error_message
    order_id = int(order.identifier)
    listed = await blocking(broker._pull_broker_all_orders)
    assert [(o["id"], o["ordStatus"]) for o in listed] == [(order_id, "Working")]
    working = await blocking(lambda: broker._pull_broker_order(order_id))
    assert working.status == Order.OrderStatus.OPEN
    # lumibot reads orderQty, orderType and price off the Order entity; Tradovate keeps
    # them on its OrderVersion, and so does the venue: lumibot sees 0 of a market order.
    assert (working.quantity, working.order_type, working.limit_price) == (0, "market", None)
    assert await blocking(broker._refresh_active_identifiers_snapshot) == {str(order_id)}
    await blocking(lambda: broker.cancel_order(order))
    cancelled = await blocking(lambda: broker._pull_broker_order(order_id))
    assert cancelled.status == Order.OrderStatus.CANCELED
    assert await blocking(broker._refresh_active_identifiers_snapshot) == set()
    assert await blocking(lambda: broker._pull_positions(None)) == []


@pytest.mark.parametrize(
    ("contract", "limit_price", "failure"),
    [
        (CONTRACT, 20900.10, "InvalidPrice"),
        ("MNQZ9", None, "InvalidContract"),
    ],
)
async def test_refused_order_is_an_error_with_its_failure_reason(
    broker: Any, contract: str, limit_price: float | None, failure: str
) -> None:
    """An order off the tick grid or on an unlisted contract comes back to lumibot as an
    error carrying Tradovate's failureReason."""
    prices = {} if limit_price is None else {"limit_price": limit_price}
    order = await blocking(lambda: broker._submit_order(futures_order("buy", contract, **prices)))
    assert order.status == Order.OrderStatus.ERROR
    assert f"Order rejected by Tradovate: {failure} - " in order.error_message
    assert await blocking(broker._pull_broker_all_orders) == []


async def test_continuous_contract_agrees_with_the_venues_roll(broker: Any) -> None:
    """lumibot's own MNQ continuous contract is the one the venue's rollcontract gives."""
    continuous = Asset("MNQ", asset_type=Asset.AssetType.CONT_FUTURE)
    ours = continuous.resolve_continuous_futures_contract(
        reference_date=START.replace(tzinfo=None), year_digits=1
    )
    headers = broker._get_headers(with_content_type=True)
    url = f"{broker.trading_api_url}/contract/rollcontract"
    body = {"name": "MNQ", "forward": True}
    rolled = await blocking(lambda: broker._request("POST", url, json=body, headers=headers))
    assert ours == rolled.json()["contract"]["name"] == CONTRACT
