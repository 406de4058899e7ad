from __future__ import annotations

from decimal import Decimal as D

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.executor.core import SymbolExecutor
from actors.executor.effects import AskRisk, RecordInJournal, Submit
from actors.messages import Approved, BadSignal, Denied, ExecuteSignal, parse_signal
from actors.prices import PriceBook
from actors.records import IntentRecorded
from actors.risk.core import RiskGuardCore
from actors.risk.core_controls import Refusal
from actors.risk.core_sizing import size_order, trade_step
from actors.risk.core_volatility import MIN_SAMPLES, SAMPLE_SECONDS
from actors.risk.limits import RiskLimits, SizingPolicy
from brokers.base import Account, Asset, OrderRequest, OrderType, Side
from tests.builders import T0, request, unread_replies

WHOLE = Asset(symbol="AAPL", tradable=True, fractionable=False)
FRACTIONS = Asset(symbol="AAPL", tradable=True, fractionable=True, min_trade_increment=D("0.001"))
NOTIONAL_1000 = SizingPolicy(method="notional", notional=D(1000))


def sized(
    policy: SizingPolicy = NOTIONAL_1000,
    *,
    price: str = "100",
    equity: str = "10000",
    asset: Asset | None = WHOLE,
    confidence: float | None = None,
    volatility: str | None = None,
) -> D | Refusal:
    return size_order(
        policy,
        price=D(price),
        equity=D(equity),
        asset=asset,
        confidence=confidence,
        volatility=None if volatility is None else D(volatility),
    )


def test_fixed_notional_buys_whole_shares_rounded_down() -> None:
    """$1000 at $30 is 33 whole shares, never 34 (that would spend more than the policy)."""
    assert sized(price="30") == D(33)


def test_fractionable_assets_round_down_to_their_increment() -> None:
    """A fractionable asset gets fractions, down to its increment."""
    assert sized(price="30", asset=FRACTIONS) == D("33.333")


def test_equity_fraction_scales_with_the_account() -> None:
    """2% of $50,000 at $100 is 10 shares."""
    policy = SizingPolicy(method="equity_fraction", equity_fraction=D("0.02"))
    assert sized(policy, equity="50000") == D(10)


def test_confidence_scales_the_size() -> None:
    """Confidence 0.3 trades 30% of the policy's amount; without scaling it is ignored."""
    assert sized(confidence=0.3) == D(3)
    unscaled = msgspec.structs.replace(NOTIONAL_1000, scale_by_confidence=False)
    assert sized(unscaled, confidence=0.3) == D(10)


def test_high_volatility_shrinks_the_size_and_low_does_not_grow_it() -> None:
    """Twice the target volatility halves the size; half the target leaves it alone."""
    policy = msgspec.structs.replace(NOTIONAL_1000, target_volatility=D("0.01"))
    assert sized(policy, volatility="0.02") == D(5)
    assert sized(policy, volatility="0.005") == D(10)
    refusal = sized(policy, volatility=None)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "no_volatility"


def test_000_a_size_below_one_share_is_denied_not_bumped_to_one() -> None:
    """$1000 of a $1500 whole-share stock rounds to nothing: refused with a stable code,
    never rounded up to 1 share (000's fix spent more than the policy allowed)."""
    refusal = sized(price="1500")
    assert isinstance(refusal, Refusal)
    assert refusal.code == "size_rounds_to_zero"
    zero_confidence = sized(confidence=0.0)
    assert isinstance(zero_confidence, Refusal)
    assert zero_confidence.code == "size_rounds_to_zero"


def test_a_size_under_the_venues_minimum_is_denied() -> None:
    """The venue's min_order_size is a floor the size must reach, not one it is raised to."""
    asset = msgspec.structs.replace(FRACTIONS, min_order_size=D(20))
    refusal = sized(price="100", asset=asset)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "size_below_minimum"


def test_a_bad_price_or_equity_is_refused() -> None:
    """A zero price or equity never divides into a size."""
    assert isinstance(sized(price="0"), Refusal)
    policy = SizingPolicy(method="equity_fraction", equity_fraction=D("0.5"))
    assert isinstance(sized(policy, equity="0"), Refusal)


@given(
    notional=st.decimals(min_value=D("0.01"), max_value=D(10**7), places=2),
    price=st.decimals(min_value=D("0.0001"), max_value=D(10**6), places=4),
    confidence=st.none() | st.floats(min_value=0, max_value=1),
    fractionable=st.booleans(),
)
def test_a_size_is_positive_finite_on_the_grid_and_within_budget(
    notional: D, price: D, confidence: float | None, fractionable: bool
) -> None:
    """Whatever the inputs, a size is a positive finite multiple of the asset's step whose
    cost never exceeds the policy's amount; anything else is a refusal."""
    asset = FRACTIONS if fractionable else WHOLE
    policy = SizingPolicy(method="notional", notional=notional)
    result = size_order(
        policy, price=price, equity=D(1), asset=asset, confidence=confidence, volatility=None
    )
    if isinstance(result, Refusal):
        assert result.code == "size_rounds_to_zero"
        return
    assert result.is_finite()
    assert result > 0
    assert result % trade_step(asset) == 0
    assert result * price <= notional


# --- through RiskGuard and the executor ----------------------------------------------


def sizing_guard(policy: SizingPolicy | None = NOTIONAL_1000) -> RiskGuardCore:
    limits = RiskLimits(
        market_slippage=D(0), duplicate_window=0, sizing=policy, trading_day="session"
    )
    prices = PriceBook()
    prices.update("AAPL", D(30), now=0.0)
    core = RiskGuardCore(limits, prices, {"AAPL": WHOLE})
    core.set_account(Account(cash=D(10**5), buying_power=D(10**5), equity=D(10**5)), 0.0, T0)
    return core


def unsized(cid: str = "a", order_type: OrderType = OrderType.MARKET, **extra: D) -> OrderRequest:
    return msgspec.structs.replace(request(cid, qty="0", order_type=order_type), **extra)


def test_000_the_size_approved_is_the_size_checked_and_sent() -> None:
    """Validation and execution share one size (000): RiskGuard sizes, checks that qty,
    reserves for it, and the approval carries it."""
    core = sizing_guard()
    decision = core.decide(unsized(), D(0), now=1.0, size_by_policy=True)
    assert isinstance(decision, Approved)
    assert decision.qty == D(33)
    assert decision.reserved == D(33) * D(30)


def test_a_sized_order_still_meets_every_limit() -> None:
    """The sized quantity goes through the same controls as a given one."""
    core = sizing_guard()
    core.set_limits(msgspec.structs.replace(core.limits, max_order_qty=D(20)))
    decision = core.decide(unsized(), D(0), now=1.0, size_by_policy=True)
    assert isinstance(decision, Denied)
    assert decision.code == "max_order_qty"


def test_a_limit_order_is_sized_at_its_limit_price() -> None:
    """A limit buy at $25 is sized from $25, not the last price."""
    core = sizing_guard()
    order = unsized(order_type=OrderType.LIMIT, limit_price=D(25))
    decision = core.decide(order, D(0), now=1.0, size_by_policy=True)
    assert isinstance(decision, Approved)
    assert decision.qty == D(40)


def test_without_a_policy_or_a_price_sizing_is_denied() -> None:
    """No policy, no fresh price, no account: each denial names its reason."""
    decision = sizing_guard(None).decide(unsized(), D(0), now=1.0, size_by_policy=True)
    assert isinstance(decision, Denied)
    assert decision.code == "no_sizing_policy"
    stale = sizing_guard().decide(unsized(), D(0), now=1000.0, size_by_policy=True)
    assert isinstance(stale, Denied)
    assert stale.code in ("no_price", "account_stale")
    fresh = sizing_guard()
    other = msgspec.structs.replace(unsized(), symbol="MSFT")
    decision = fresh.decide(other, D(0), now=1.0, size_by_policy=True)
    assert isinstance(decision, Denied)
    assert decision.code == "no_price"


def test_signals_without_qty_need_a_sizing_policy() -> None:
    """A buy without qty is refused as before unless a policy is configured."""
    line = '{"id":"s","symbol":"AAPL","action":"buy","confidence":0.5}'
    with pytest.raises(BadSignal, match=r"needs .qty.") as raised:
        parse_signal(line)
    assert raised.value.signal_id == "s"
    signal = parse_signal(line, sized_entries=True)
    assert signal.qty is None
    assert signal.confidence == 0.5


def test_the_executor_sends_the_quantity_risk_approved() -> None:
    """An unsized buy asks RiskGuard to size it and sends exactly the approved qty."""
    ex = SymbolExecutor("AAPL")
    line = '{"id":"s","symbol":"AAPL","action":"sell","confidence":0.25}'
    msg = ExecuteSignal(
        signal=parse_signal(line, sized_entries=True),
        reply=unread_replies(),
        received_at=T0,
        source="test",
        raw="",
    )
    (ask,) = [e for e in ex.handle(msg, 0, T0) if isinstance(e, AskRisk)]
    assert ask.size_by_policy
    assert ask.confidence == 0.25
    assert ask.request.side is Side.SELL
    cid = ask.request.client_order_id
    effects = ex.handle(Approved(client_order_id=cid, reserved=D(0), qty=D(7)), 0, T0)
    (submit,) = [e for e in effects if isinstance(e, Submit)]
    assert submit.request.qty == D(7)
    (journal,) = [e for e in effects if isinstance(e, RecordInJournal)]
    (intent,) = [r for r in journal.records if isinstance(r, IntentRecorded)]
    assert intent.request.qty == D(7)


def test_volatility_is_estimated_from_the_feed_once_per_minute() -> None:
    """The estimate appears after enough one-minute samples and is read, not computed, per
    decision; a steady price has none."""
    prices = PriceBook()
    for i in range(MIN_SAMPLES + 1):
        price = D(100) if i % 2 == 0 else D(101)
        prices.update("AAPL", price, now=i * SAMPLE_SECONDS)
        # Trades within the minute are not samples.
        prices.update("AAPL", D(500), now=i * SAMPLE_SECONDS + 1)
        prices.update("AAPL", price, now=i * SAMPLE_SECONDS + 2)
        if i < MIN_SAMPLES:
            assert prices.volatility("AAPL") is None
    vol = prices.volatility("AAPL")
    assert vol is not None
    assert D("0.005") < vol < D("0.011")
    assert prices.volatility("MSFT") is None
