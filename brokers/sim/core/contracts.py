"""The paper venue's futures: four equity-index products on CME's quarterly cycle (pure).

A contract is named as Tradovate names it: root, maturity month code and a 1-digit year
(``MNQZ6`` is December 2026). Equity-index futures expire on the third Friday of their
month. Ids are Tradovate-style integers derived from the names, so they are stable across
runs and two venues agree on them.
"""

from __future__ import annotations

import calendar
import random
import re
from datetime import date, timedelta
from decimal import Decimal

import attrs

from brokers.base import ContractMonth, Instrument, Margin, MonthCode, future_instrument

# The quarterly cycle: March, June, September, December.
MONTH_CODES: dict[int, str] = {3: "H", 6: "M", 9: "U", 12: "Z"}
CODE_MONTHS: dict[str, int] = {code: month for month, code in MONTH_CODES.items()}
# How many maturities the venue lists at once, the front one first.
LISTED_MATURITIES = 4
# A continuous symbol as TradingView writes it: ``MNQ1!`` is the front contract.
CONTINUOUS = re.compile(r"^(?P<root>[A-Z]+)1!$")
_CONTRACT = re.compile(r"^(?P<root>[A-Z]+?)(?P<code>[HMUZ])(?P<year>[0-9])$")


@attrs.frozen
class FuturesProduct:
    """A futures product: what one point is worth, its tick, and its margin per contract."""

    id: int
    root: str
    description: str
    value_per_point: Decimal
    tick_size: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    # The level seeded starting prices are drawn around.
    reference_price: Decimal

    @property
    def tick_value(self) -> Decimal:
        return self.value_per_point * self.tick_size


PRODUCTS: dict[str, FuturesProduct] = {
    product.root: product
    for product in (
        FuturesProduct(
            1001, "MNQ", "Micro E-mini Nasdaq-100", Decimal(2), Decimal("0.25"),
            Decimal(2100), Decimal(1910), Decimal(21000),
        ),
        FuturesProduct(
            1002, "MES", "Micro E-mini S&P 500", Decimal(5), Decimal("0.25"),
            Decimal(1500), Decimal(1360), Decimal(6000),
        ),
        FuturesProduct(
            1003, "NQ", "E-mini Nasdaq-100", Decimal(20), Decimal("0.25"),
            Decimal(21000), Decimal(19100), Decimal(21000),
        ),
        FuturesProduct(
            1004, "ES", "E-mini S&P 500", Decimal(50), Decimal("0.25"),
            Decimal(15000), Decimal(13600), Decimal(6000),
        ),
    )
}  # fmt: skip


def third_friday(year: int, month: int) -> date:
    """The third Friday of a month: the expiry day of CME's equity-index futures."""
    first = date(year, month, 1)
    to_friday = (calendar.FRIDAY - first.weekday()) % 7
    return first + timedelta(days=to_friday + 14)


@attrs.frozen
class FuturesContract:
    """One maturity of a product: ``MNQZ6``."""

    product: FuturesProduct
    year: int  # the full year: 2026
    month: int  # 3, 6, 9 or 12

    @property
    def month_code(self) -> str:
        return MONTH_CODES[self.month]

    @property
    def name(self) -> str:
        return f"{self.product.root}{self.month_code}{self.year % 10}"

    @property
    def expiration_date(self) -> date:
        return third_friday(self.year, self.month)

    @property
    def maturity_id(self) -> int:
        """The ``contractMaturity`` id: product and maturity."""
        return self.product.id * 100_000 + self.year * 10 + self.month // 3

    @property
    def id(self) -> int:
        """The ``contract`` id."""
        return 4_000_000_000 + self.maturity_id

    def next(self) -> FuturesContract:
        """The next maturity of the same product."""
        if self.month == 12:
            return FuturesContract(self.product, self.year + 1, 3)
        return FuturesContract(self.product, self.year, self.month + 3)

    def previous(self) -> FuturesContract:
        if self.month == 3:
            return FuturesContract(self.product, self.year - 1, 12)
        return FuturesContract(self.product, self.year, self.month - 3)

    def instrument(self) -> Instrument:
        """The contract as the domain knows an instrument."""
        month = ContractMonth(
            root=self.product.root,
            month_code=MonthCode.of_month(self.month),
            year=self.year,
            expiration_date=self.expiration_date,
        )
        margin = Margin(
            initial=self.product.initial_margin, maintenance=self.product.maintenance_margin
        )
        return future_instrument(
            month,
            multiplier=self.product.value_per_point,
            tick_size=self.product.tick_size,
            margin=margin,
        )

    def is_expired(self, trading_date: date) -> bool:
        """Whether it no longer trades on ``trading_date`` (it trades on its expiry day)."""
        return trading_date > self.expiration_date


def front_contract(product: FuturesProduct, trading_date: date) -> FuturesContract:
    """The nearest maturity still trading on ``trading_date``."""
    month = ((trading_date.month - 1) // 3 + 1) * 3
    contract = FuturesContract(product, trading_date.year, month)
    while contract.is_expired(trading_date):
        contract = contract.next()
    return contract


def listed_contracts(trading_date: date) -> list[FuturesContract]:
    """Every contract the venue lists on ``trading_date``: each product's front maturity
    and the ones after it, front first."""
    listed: list[FuturesContract] = []
    for product in PRODUCTS.values():
        contract = front_contract(product, trading_date)
        for _ in range(LISTED_MATURITIES):
            listed.append(contract)
            contract = contract.next()
    return listed


def parse_contract(name: str, trading_date: date) -> FuturesContract | None:
    """The contract named ``MNQZ6`` (the nearest such maturity not yet expired on
    ``trading_date``: a 1-digit year repeats every ten years), or None."""
    match = _CONTRACT.match(name.upper())
    if match is None or (product := PRODUCTS.get(match["root"])) is None:
        return None
    month = CODE_MONTHS[match["code"]]
    digit = int(match["year"])
    # The first year ending in ``digit`` whose maturity has not expired.
    year = trading_date.year - trading_date.year % 10 + digit
    if FuturesContract(product, year, month).is_expired(trading_date):
        year += 10
    return FuturesContract(product, year, month)


def resolve_symbol(symbol: str, trading_date: date) -> FuturesContract | None:
    """A contract name (``MNQZ6``) or a continuous symbol (``MNQ1!``), as of
    ``trading_date``; None for anything else."""
    continuous = CONTINUOUS.match(symbol.upper())
    if continuous is not None:
        product = PRODUCTS.get(continuous["root"])
        return front_contract(product, trading_date) if product is not None else None
    return parse_contract(symbol, trading_date)


def seeded_futures_prices(seed: int, contracts: list[FuturesContract]) -> dict[str, Decimal]:
    """Starting prices on each product's tick grid, within +/- 5 % of its reference,
    fixed by ``seed``; later maturities of a product are a few ticks apart."""
    rng = random.Random(f"futures-{seed}")
    levels: dict[str, Decimal] = {}
    for product in PRODUCTS.values():
        drift = Decimal(rng.randint(-500, 500)) / Decimal(10000)
        levels[product.root] = product.reference_price * (1 + drift)
    prices: dict[str, Decimal] = {}
    offsets: dict[str, int] = {}
    for contract in contracts:
        product = contract.product
        step = offsets.get(product.root, 0)
        offsets[product.root] = step + 1
        level = levels[product.root] + step * 20 * product.tick_size
        prices[contract.name] = on_tick(level, product.tick_size)
    return prices


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    """``price`` rounded to the nearest multiple of ``tick``."""
    return (price / tick).to_integral_value() * tick


def is_on_tick(price: Decimal, tick: Decimal) -> bool:
    return price > 0 and price % tick == 0
