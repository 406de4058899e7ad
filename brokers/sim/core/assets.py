"""The paper venue's instruments: a default universe with seeded starting prices.

A seed fixes every starting price, so two venues started with the same seed quote the same
prices and give the same fills to the same orders.
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

CENT = Decimal("0.01")
# Alpaca's sub-penny rule: prices of $1 and above take 2 decimals, below $1 take 4.
SUB_DOLLAR_INCREMENT = Decimal("0.0001")

# Reference levels the seeded starting prices are drawn around (within +/- 5 %).
REFERENCE_PRICES: dict[str, tuple[str, str, Decimal]] = {
    "AAPL": ("Apple Inc. Common Stock", "NASDAQ", Decimal(190)),
    "MSFT": ("Microsoft Corporation Common Stock", "NASDAQ", Decimal(410)),
    "SPY": ("SPDR S&P 500 ETF Trust", "ARCA", Decimal(470)),
    "QQQ": ("Invesco QQQ Trust, Series 1", "NASDAQ", Decimal(400)),
    "TSLA": ("Tesla, Inc. Common Stock", "NASDAQ", Decimal(240)),
    "NVDA": ("NVIDIA Corporation Common Stock", "NASDAQ", Decimal(480)),
    "AMZN": ("Amazon.com, Inc. Common Stock", "NASDAQ", Decimal(150)),
    "GOOGL": ("Alphabet Inc. Class A Common Stock", "NASDAQ", Decimal(140)),
    "META": ("Meta Platforms, Inc. Class A Common Stock", "NASDAQ", Decimal(350)),
    "AMD": ("Advanced Micro Devices, Inc. Common Stock", "NASDAQ", Decimal(140)),
}

# Asset ids are stable across runs: derived from the symbol, not drawn at random.
_ASSET_NAMESPACE = uuid.UUID("6f1c2a52-64a4-4f4e-9d0e-5b8d2f3c9a10")


@attrs.frozen
class SimAsset:
    """One instrument the venue lists, with Alpaca's flags."""

    symbol: str
    name: str = ""
    exchange: str = "NASDAQ"
    tradable: bool = True
    shortable: bool = True
    fractionable: bool = True
    min_order_size: Decimal = Decimal("0.000000001")
    min_trade_increment: Decimal = Decimal("0.000000001")
    price_increment: Decimal = CENT

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_ASSET_NAMESPACE, self.symbol))


def seeded_prices(seed: int) -> dict[str, Decimal]:
    """Starting prices for the default universe, fixed by ``seed``."""
    rng = random.Random(seed)
    prices: dict[str, Decimal] = {}
    for symbol, (_, _, level) in REFERENCE_PRICES.items():
        drift = Decimal(rng.randint(-500, 500)) / Decimal(10000)
        prices[symbol] = (level * (1 + drift)).quantize(CENT)
    return prices


def build_universe(
    seed: int, prices: Mapping[str, Decimal] | None
) -> tuple[list[SimAsset], dict[str, Decimal]]:
    """The listed assets and their starting prices: the default universe, or ``prices``."""
    if prices is None:
        start = seeded_prices(seed)
    else:
        start = {symbol.upper(): Decimal(price) for symbol, price in prices.items()}
    assets = []
    for symbol in start:
        name, exchange, _ = REFERENCE_PRICES.get(symbol, (symbol, "NASDAQ", Decimal(0)))
        assets.append(SimAsset(symbol=symbol, name=name, exchange=exchange))
    return assets, start


def is_valid_price(price: Decimal) -> bool:
    """Whether ``price`` respects Alpaca's sub-penny rule."""
    if price <= 0:
        return False
    increment = CENT if price >= 1 else SUB_DOLLAR_INCREMENT
    return price % increment == 0
