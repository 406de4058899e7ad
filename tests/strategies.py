"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from hypothesis import strategies as st

from actors.reconciler.core_drift import Cause
from brokers.base import OrderEvent, OrderStatus, Side
from daemon.sources import MAX_LINE_BYTES

if TYPE_CHECKING:
    from collections.abc import Sequence

quantities = st.integers(min_value=1, max_value=1000).map(Decimal)
prices = st.integers(min_value=1, max_value=100_000).map(lambda cents: Decimal(cents) / 100)

# (event, status) pairs a venue may send for one order, in any order, any number of times.
venue_events = st.sampled_from(
    [
        (OrderEvent.NEW, OrderStatus.NEW),
        (OrderEvent.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED),
        (OrderEvent.FILL, OrderStatus.FILLED),
        (OrderEvent.CANCELED, OrderStatus.CANCELED),
        (OrderEvent.EXPIRED, OrderStatus.EXPIRED),
        (OrderEvent.PENDING_CANCEL, OrderStatus.PENDING_CANCEL),
        (OrderEvent.REJECTED, OrderStatus.REJECTED),
        (OrderEvent.SNAPSHOT, OrderStatus.PARTIALLY_FILLED),
    ]
)

# The (event, status) pairs that end an order.
final_venue_events = st.sampled_from(
    [
        (OrderEvent.FILL, OrderStatus.FILLED),
        (OrderEvent.CANCELED, OrderStatus.CANCELED),
        (OrderEvent.EXPIRED, OrderStatus.EXPIRED),
        (OrderEvent.REJECTED, OrderStatus.REJECTED),
    ]
)

# (symbol, side, qty, price) fills of a trade history.
fill_steps = st.lists(
    st.tuples(
        st.sampled_from(["AAPL", "MSFT"]),
        st.sampled_from([Side.BUY, Side.SELL]),
        quantities,
        prices,
    ),
    max_size=40,
)


# --- steps of the property tests over a core: each test's body reads its own tuples --------


def exposure_steps(symbols: Sequence[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Reserve, fill (the n-th reservation), release and re-price steps of an exposure book."""
    return st.one_of(
        st.tuples(
            st.just("reserve"), st.sampled_from(symbols), st.sampled_from(Side), st.integers(1, 9)
        ),
        st.tuples(st.just("fill"), st.integers(0, 30), st.integers(1, 9)),
        st.tuples(st.just("release"), st.integers(0, 30)),
        st.tuples(st.just("price"), st.sampled_from(symbols), st.integers(1, 50)),
    )


def exposure_sum_steps(symbols: Sequence[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Price moves (some to zero or below), orders, fills, releases and sector maps."""
    price_moves = st.tuples(
        st.just("price"),
        st.sampled_from(symbols),
        st.integers(-5, 5_000).map(lambda cents: Decimal(cents) / 100),
    )
    orders = st.tuples(
        st.just("order"), st.sampled_from(symbols), st.sampled_from(Side), st.integers(1, 50)
    )
    fills = st.tuples(st.just("fill"), st.integers(0, 30), st.integers(1, 50))
    releases = st.tuples(st.just("release"), st.integers(0, 30), st.just(0))
    sector_maps = st.tuples(st.just("sectors"), st.booleans(), st.just(0))
    return st.one_of(price_moves, orders, fills, releases, sector_maps)


def risk_guard_steps(symbols: Sequence[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Orders asked of the guard, and outcomes (fill, partial, cancel, reject, release) of the
    n-th one still live."""
    orders = st.tuples(
        st.just("order"), st.sampled_from(symbols), st.sampled_from(Side), st.integers(1, 30)
    )
    outcomes = st.tuples(
        st.sampled_from(["fill", "partial", "cancel", "reject", "release"]), st.integers(0, 20)
    )
    return st.one_of(orders, outcomes)


# Signals (kind, qty, with protection?) and venue moves on the n-th open order of a bracket run.
bracket_session_steps = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["buy", "sell", "close", "limit buy", "limit sell"]),
            st.integers(1, 5),
            st.booleans(),
        ),
        st.tuples(st.sampled_from(["fill", "partial", "cancel", "price"]), st.integers(0, 20)),
    ),
    max_size=25,
)

# Drifts found (symbol, cause, difference, notional) and settlements of the n-th correction.
correction_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("found"),
            st.sampled_from(["AAPL", "MSFT", "AMD"]),
            st.sampled_from(list(Cause)),
            st.integers(min_value=-50, max_value=50),
            st.integers(min_value=0, max_value=3000),
        ),
        st.tuples(
            st.just("settle"),
            st.integers(min_value=1, max_value=40),
            st.sampled_from(["applied", "stale", "failed", "queued"]),
        ),
    ),
    max_size=40,
)


# --- input the daemon reads -------------------------------------------------------------

# What `tradingd send` may read: blank lines, a line over the limit, any bytes but a newline.
send_lines = st.one_of(
    st.sampled_from([b"", b"  ", b"\t", b'{"id":"s"}', b"x" * (MAX_LINE_BYTES + 1)]),
    st.binary(max_size=40).filter(lambda b: b"\n" not in b),
)

_alert_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.floats()
_alert_json_values = _alert_scalars | st.lists(_alert_scalars, max_size=3)
# A TradingView-like alert: each field absent, of any JSON type, or one of its usual values.
alert_like_bodies = st.fixed_dictionaries(
    {},
    optional={
        "ticker": _alert_json_values | st.sampled_from(["AAPL", "MNQ1!", ""]),
        "action": _alert_json_values | st.sampled_from(["buy", "sell", "BUY"]),
        "contracts": _alert_json_values | st.sampled_from(["1", "0", "-2", "NaN", "1e999"]),
        "position_size": _alert_json_values | st.sampled_from(["3", "-3", "Infinity"]),
        "market_position": _alert_json_values | st.sampled_from(["long", "short", "flat"]),
        "passphrase": _alert_json_values,
        "id": _alert_json_values,
        "order_id": _alert_json_values | st.sampled_from(["Long", "Short", ""]),
        "bar_time": _alert_json_values | st.sampled_from(["1795428000000"]),
    },
)


def webhook_posts(passphrase: str) -> st.SearchStrategy[bytes]:
    """Bodies a webhook may be posted: any bytes, or JSON with the passphrase and loose fields."""
    return st.binary(max_size=300) | st.dictionaries(
        st.sampled_from(["ticker", "action", "contracts", "position_size", "id", "x"]),
        st.none() | st.integers() | st.text(max_size=10) | st.floats(),
    ).map(lambda d: json.dumps({**d, "passphrase": passphrase}).encode())


# --- a trading session against the daemon: signals, pauses and venue faults -------------


@attrs.frozen
class SendSignal:
    """One signal; ``size`` is the qty of a buy or sell, the signed target of a target."""

    symbol: str
    action: str
    size: int | None = None


@attrs.frozen
class Settle:
    """Wait until every order is final before the next step (else signals queue up)."""


@attrs.frozen
class ArmFault:
    """Arm a venue fault: a lost answer or a refusal hits the next order submission (of any
    symbol); duplicated or reordered stream events last for the rest of the session."""

    fault: str


SessionStep = SendSignal | Settle | ArmFault

session_symbols = st.sampled_from(["AAPL", "MSFT"])
session_steps: st.SearchStrategy[SessionStep] = st.one_of(
    st.builds(
        SendSignal,
        symbol=session_symbols,
        action=st.sampled_from(["buy", "sell"]),
        size=st.integers(min_value=1, max_value=9),
    ),
    st.builds(SendSignal, symbol=session_symbols, action=st.just("close")),
    st.builds(
        SendSignal,
        symbol=session_symbols,
        action=st.just("target"),
        size=st.integers(min_value=-9, max_value=9),
    ),
    st.just(Settle()),
    st.builds(
        ArmFault,
        fault=st.sampled_from(
            ["lose_response", "reject_next", "duplicate_events", "reorder_events"]
        ),
    ),
)


# --- outside input: lines and bodies of any shape, numbers of any size --------------------
#
# Built as raw bytes rather than through a JSON encoder, so that they can hold what encoders
# never write: duplicate keys, bare NaN, lone surrogates, invalid UTF-8, nesting thousands deep.

NON_FINITE = ["NaN", "nan", "-NaN", "sNaN", "-sNaN", "Infinity", "-Infinity", "inf", "-inf"]
# Escapes and bytes that trip decoders: lone surrogates, NUL, CR, invalid UTF-8.
AWKWARD_PIECES = [
    b"\\ud800",
    b"\\udc00\\ud800",
    b"\\u0000",
    b"\x00",
    b"\r",
    b"\\r",
    b"\x80",
    b"\xff\xfe",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
]

number_texts = st.one_of(
    st.sampled_from(NON_FINITE),
    # Exponents across and beyond decimal's context (Emax 999999) in both directions.
    st.builds(
        "{}e{}".format,
        st.integers(min_value=-99, max_value=99),
        st.integers(min_value=-(10**10), max_value=10**10)
        | st.sampled_from([999999, 1000000, -999999, -1000000, 400, -400, 30, -30]),
    ),
    # Long digit strings, some with a point inside.
    st.builds(
        lambda digits, point: (
            digits if point >= len(digits) else f"{digits[:point]}.{digits[point:]}"
        ),
        st.text("0123456789", min_size=1, max_size=300),
        st.integers(min_value=1, max_value=300),
    ),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats().map(repr),
    st.sampled_from(["0", "-0", "0E-999999", "1e-9", "1e-10", "1e9", "1000000000.000000001"]),
)


def render_object(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A JSON object written pair by pair, so that a key may appear twice."""
    return b"{" + b",".join(key + b":" + value for key, value in pairs) + b"}"


def json_string(text: str) -> bytes:
    return json.dumps(text).encode()


# A number as a JSON string, or as a bare token (which may not be JSON at all: ``NaN``).
json_numbers = number_texts.flatmap(
    lambda text: st.sampled_from([json_string(text), text.encode()])
)
awkward_strings = st.lists(
    st.sampled_from(AWKWARD_PIECES) | st.text(max_size=8).map(lambda t: t.encode()), max_size=6
).map(lambda pieces: b'"' + b"".join(pieces) + b'"')
json_strings = st.text(max_size=60).map(json_string) | awkward_strings
long_strings = st.integers(min_value=100, max_value=15000).map(lambda n: json_string("k" * n))
nested_values = st.recursive(
    st.none().map(lambda _: b"null") | json_numbers | json_strings,
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda items: b"[" + b",".join(items) + b"]")
        | st.lists(st.tuples(json_strings, inner), max_size=3).map(render_object)
    ),
    max_leaves=8,
)
deep_nesting = st.tuples(
    st.integers(min_value=50, max_value=7000), st.sampled_from([b"[]", b'{"a":}', b"[{"])
).map(lambda shape: shape[1][:1] * shape[0] + shape[1][1:] * shape[0])
any_value = json_numbers | json_strings | nested_values | long_strings | deep_nesting


SIGNAL_NUMBERS = ["qty", "target_qty", "limit_price", "stop_price", "take_profit", "stop_loss"]
signal_fields = st.sampled_from(
    [*SIGNAL_NUMBERS, "confidence", "order_type", "time_in_force", "strategy", "kind", "quantity"]
)


# What each action needs, so that a well-formed signal carries its number to sizing and risk.
NEEDED_NUMBER = {"buy": "qty", "sell": "qty", "target": "target_qty"}
PRICE_FIELDS = ["limit_price", "stop_price", "take_profit", "stop_loss"]


@st.composite
def signal_lines(draw: st.DrawFn, ids: st.SearchStrategy[str]) -> bytes:
    """A signal-shaped object. Mostly well-formed around the numbers under test, so that
    they reach sizing, risk and rebalance planning; now and then with a field of the wrong
    type, an unknown or huge key, or a key written twice."""
    action = draw(st.sampled_from(["buy", "sell", "target", "close", "rebalance"]))
    pairs = [(b'"id"', json_string(draw(ids))), (b'"action"', json_string(action))]
    if action == "rebalance":
        weights = draw(
            st.lists(st.tuples(st.sampled_from(["AAPL", "MSFT"]), json_numbers), max_size=3)
        )
        pairs.append((b'"targets"', render_object([(json_string(s), w) for s, w in weights])))
    else:
        pairs.append((b'"symbol"', json_string(draw(st.sampled_from(["AAPL", "MSFT", "aapl"])))))
    if action in NEEDED_NUMBER:
        pairs.append((json_string(NEEDED_NUMBER[action]), draw(json_numbers)))
    if draw(st.booleans()):
        order_type = draw(st.sampled_from(["limit", "stop", "stop_limit"]))
        pairs.append((b'"order_type"', json_string(order_type)))
    for field in draw(st.lists(st.sampled_from(PRICE_FIELDS), max_size=2, unique=True)):
        pairs.append((json_string(field), draw(json_numbers)))
    if draw(st.booleans()):
        pairs.append((b'"confidence"', draw(json_numbers)))
    if draw(st.integers(min_value=0, max_value=2)) == 0:
        # Mangled: a field of any type, an unknown or huge key, a key written twice.
        for field in draw(st.lists(signal_fields | st.just("id") | st.just("symbol"), max_size=2)):
            pairs.append((json_string(field), draw(any_value)))
        if draw(st.booleans()):
            pairs.append((draw(json_strings | long_strings), draw(any_value)))
        if draw(st.booleans()):
            pairs.append(draw(st.sampled_from(pairs)))
        pairs = draw(st.permutations(pairs))
    return render_object(pairs)


def is_one_line(line: bytes) -> bool:
    """What a line-oriented source reads as exactly one line that wants an ack."""
    return b"\n" not in line and bool(line.strip())


def outside_lines(ids: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Any line a sender might write to an NDJSON source, good ones among them."""
    return st.one_of(
        signal_lines(ids),
        signal_lines(ids),
        any_value,
        deep_nesting,
        st.binary(min_size=1, max_size=200),
        st.integers(min_value=16 * 1024 + 1, max_value=40000).map(lambda n: b"{" + b" " * n + b"}"),
    ).filter(is_one_line)


@st.composite
def alert_bodies(draw: st.DrawFn, passphrase: str) -> bytes:
    """A TradingView-style webhook body: alert fields with numbers of any size."""
    pairs = [(b'"passphrase"', json_string(passphrase))]
    ticker = draw(st.sampled_from(["AAPL", "MSFT", "MNQ1!", "NOPE", "x" * 40]))
    pairs.append((b'"ticker"', json_string(ticker) if draw(st.booleans()) else draw(any_value)))
    fields = ["action", "contracts", "position_size", "market_position", "id", "time"]
    for field in draw(st.lists(st.sampled_from(fields), max_size=4)):
        match field:
            case "action":
                value = json_string(draw(st.sampled_from(["buy", "sell", "BUY", "hold"])))
            case "market_position":
                value = json_string(draw(st.sampled_from(["long", "short", "flat", "up"])))
            case "contracts" | "position_size":
                value = draw(json_numbers)
            case _:
                value = draw(json_strings | any_value)
        pairs.append((json_string(field), value))
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        pairs.append(draw(st.sampled_from(pairs)))
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        return draw(any_value | st.binary(max_size=200))
    return render_object(pairs)


CONTROL_COMMANDS = [
    *("status", "positions", "orders", "audit", "halt", "resume", "metrics"),
    *("reconcile", "corrections", "approve", "trades", "nope"),
]
# Times at the edges of what a datetime holds, some with no UTC equivalent.
edge_times = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "2026-01-05T15:00:00",
        "2026-02-30T00:00:00Z",
        "2026-01-05T15:00:00+99:00",
    ]
).map(json_string)


@st.composite
def control_lines(draw: st.DrawFn) -> bytes:
    """A control request (``kind: control``) with fields of any value."""
    pairs = [(b'"kind"', b'"control"')]
    pairs.append((b'"command"', json_string(draw(st.sampled_from(CONTROL_COMMANDS)))))
    for field in draw(st.lists(st.sampled_from(["symbol", "since", "until", "limit", "id"]))):
        match field:
            case "since" | "until":
                value = draw(edge_times | any_value)
            case "limit" | "id":
                value = draw(
                    st.integers(min_value=-(2**70), max_value=2**70).map(lambda n: str(n).encode())
                    | json_numbers
                )
            case _:
                value = draw(any_value)
        pairs.append((json_string(field), value))
    return render_object(pairs)
