"""RiskGuard's decision time with 500 symbols priced, in-process, with every default limit on.

Each measured decision is a market buy that passes every check (so every check runs) and
is then released, so the guard's state stays steady. Books: a few held positions; a
position in every one of the 500 symbols; and that again with 50 prices moving between
decisions (the price feed's writes are not timed, RiskGuard's revaluation of them is).

Prints a table of p50/p99 in microseconds.

    python bench/risk.py [--decisions N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.messages import Approved  # noqa: E402
from actors.prices import PriceBook  # noqa: E402
from actors.risk_core import RiskGuardCore  # noqa: E402
from actors.risk_limits import RiskLimits  # noqa: E402
from brokers.base import Account, Asset, OrderRequest, Side  # noqa: E402

SYMBOLS = [f"S{i:03d}" for i in range(500)]
NOW = 1.0


def build(held: int) -> RiskGuardCore:
    prices = PriceBook()
    for i, symbol in enumerate(SYMBOLS):
        prices.update(symbol, Decimal(10 + i % 90), now=0.0)
    assets = {s: Asset(symbol=s, tradable=True, fractionable=False) for s in SYMBOLS}
    limits = RiskLimits(
        duplicate_window=0,  # every decision would otherwise repeat one of 500 keys
        max_orders_per_second=None,
        max_orders_per_minute=None,
        sectors={s: f"sector{i % 11}" for i, s in enumerate(SYMBOLS)},
        sector_caps={f"sector{i}": Decimal(1) for i in range(11)},
    )
    core = RiskGuardCore(limits, prices, assets)
    cash = Decimal(10_000_000)
    core.set_account(Account(cash=cash, buying_power=cash, equity=cash), 0.0, datetime.now(UTC))
    core.load_positions({s: Decimal(1) for s in SYMBOLS[:held]})
    return core


def measure(core: RiskGuardCore, decisions: int, ticks: int = 0) -> list[float]:
    samples: list[float] = []
    for n in range(decisions):
        for k in range(ticks):
            moved = SYMBOLS[(n * ticks + k) % len(SYMBOLS)]
            core.prices.update(moved, Decimal(10 + (n + k) % 90), now=NOW)
        symbol = SYMBOLS[n % len(SYMBOLS)]
        request = OrderRequest(
            client_order_id=f"b-{n}", symbol=symbol, side=Side.BUY, qty=Decimal(1 + n % 7)
        )
        start = time.perf_counter_ns()
        decision = core.decide(request, Decimal(0), NOW)
        samples.append((time.perf_counter_ns() - start) / 1000)
        assert isinstance(decision, Approved), decision
        core.release(request.client_order_id)
    return samples


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1]


def main(decisions: int) -> None:
    print(f"{'book':<40}{'n':>7}{'p50 us':>10}{'p99 us':>10}")
    books = (
        ("500 priced, 10 held", 10, 0),
        ("500 priced, 500 held", 500, 0),
        ("500 held, 50 prices move per decision", 500, 50),
    )
    for label, held, ticks in books:
        core = build(held)
        measure(core, 1000, ticks)  # warm-up
        samples = measure(core, decisions, ticks)
        print(
            f"{label:<40}{len(samples):>7}"
            f"{percentile(samples, 50):>10.1f}{percentile(samples, 99):>10.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    main(parser.parse_args().decisions)
