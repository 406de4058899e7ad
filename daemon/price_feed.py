"""The price feed: the one task that writes the PriceBook, from the venue's trade stream.

No decision ever fetches a price itself (no polling for bars or quotes per order): actors
read the PriceBook, which refuses prices older than the configured age.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from actors.retry import Backoff
from brokers.errors import AuthenticationFailed, BrokerUnavailable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from actors.prices import PriceBook
    from brokers.base import MarketData

log = logging.getLogger("tradingd.prices")


async def run_price_feed(
    market_data: MarketData,
    prices: PriceBook,
    symbols: Sequence[str],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Keep the PriceBook current; reconnect with backoff when the stream breaks."""
    backoff = Backoff(base=0.2, cap=10.0)
    first = True
    while True:
        try:
            async with market_data.trades(symbols) as trades:
                if first:
                    task_status.started()
                    first = False
                backoff.attempts = 0
                async for trade in trades:
                    prices.update(trade.symbol, trade.price, trio.current_time())
        except AuthenticationFailed:
            raise
        except BrokerUnavailable as exc:
            log.warning("price feed down: %s", exc)
            if first:
                # Start anyway: decisions without a price are denied, not guessed.
                task_status.started()
                first = False
        await trio.sleep(backoff.next_delay())
