"""RiskGuard's decision time with 500 symbols priced, in-process, with every default limit on.

Each measured decision is a market buy that passes every check (so every check runs) and
is then released, so the guard's state stays steady. Books: a few held positions; a
position in every one of the 500 symbols; and that again with 50 prices moving between
decisions (the price feed's writes are not timed, RiskGuard's revaluation of them is), and
that once more with the revaluation done before the decision, untimed, as RiskGuard's loop
does it in idle time.

With ``--against REV`` the exposure book of git revision REV is timed too, in the same
run, in alternating rounds, so both see the same machine load.

Prints a table of p50/p99 in microseconds.

    python bench/risk.py [--decisions N] [--against REV]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import percentile  # noqa: E402

from actors.messages import Approved  # noqa: E402
from actors.prices import PriceBook  # noqa: E402
from actors.risk.core import RiskGuardCore  # noqa: E402
from actors.risk.limits import RiskLimits  # noqa: E402
from brokers.base import Account, Asset, OrderRequest, Side  # noqa: E402

SYMBOLS = [f"S{i:03d}" for i in range(500)]
NOW = 1.0
ROUNDS = 10


def build(held: int, exposure_book: Any = None) -> RiskGuardCore:
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
    if exposure_book is not None:
        core._exposure = exposure_book(limits, prices)  # the baseline under comparison
    cash = Decimal(10_000_000)
    core.set_account(Account(cash=cash, buying_power=cash, equity=cash), 0.0, datetime.now(UTC))
    core.load_positions({s: Decimal(1) for s in SYMBOLS[:held]})
    return core


def measure(
    core: RiskGuardCore, decisions: int, ticks: int = 0, first: int = 0, idle: bool = False
) -> list[float]:
    """``idle``: the book is revalued between the price moves and the decision, untimed, as
    RiskGuard's loop does while no message waits."""
    samples: list[float] = []
    for n in range(first, first + decisions):
        for k in range(ticks):
            moved = SYMBOLS[(n * ticks + k) % len(SYMBOLS)]
            core.prices.update(moved, Decimal(10 + (n + k) % 90), now=NOW)
        if idle:
            core.revalue()
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


def exposure_book_at(revision: str) -> Any:
    """The ExposureBook class as ``actors/risk/core_exposure.py`` was at ``revision``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:actors/risk/core_exposure.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("baseline_risk_exposure")
    sys.modules[module.__name__] = module
    exec(compile(source, f"{revision}:actors/risk/core_exposure.py", "exec"), module.__dict__)
    return module.ExposureBook


def main(decisions: int, against: str | None) -> None:
    variants: list[tuple[str, Any]] = [("this tree", None)]
    if against is not None:
        variants.append((against, exposure_book_at(against)))
    print(f"{'book':<40}{'exposure':>12}{'n':>7}{'p50 us':>10}{'p99 us':>10}")
    books = (
        ("500 priced, 10 held", 10, 0, False),
        ("500 priced, 500 held", 500, 0, False),
        ("500 held, 50 prices move per decision", 500, 50, False),
        ("  the same, revalued while idle", 500, 50, True),
    )
    for label, held, ticks, idle in books:
        # The baseline has no idle revaluation: its row above is its figure.
        compared = variants[:1] if idle else variants
        cores = [build(held, book) for _, book in compared]
        samples: list[list[float]] = [[] for _ in compared]
        for core in cores:
            measure(core, 1000, ticks, idle=idle)  # warm-up
        # Alternating rounds: a burst of load elsewhere hits both variants alike.
        per_round = max(1, decisions // ROUNDS)
        for r in range(ROUNDS):
            for core, taken in zip(cores, samples, strict=True):
                taken += measure(core, per_round, ticks, 1000 + r * per_round, idle)
        for (name, _), taken in zip(compared, samples, strict=True):
            print(
                f"{label:<40}{name:>12}{len(taken):>7}"
                f"{percentile(taken, 50):>10.1f}{percentile(taken, 99):>10.1f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--against", metavar="REV", help="also time REV's exposure book")
    args = parser.parse_args()
    main(args.decisions, args.against)
