from __future__ import annotations

from actors.messages import parse_signal
from actors.router.core import Duplicate, Reject, SignalRouterCore, ToExecutor, ToRebalance


def test_same_id_twice_is_a_duplicate() -> None:
    """A signal id seen before is a duplicate and never routed again."""
    core = SignalRouterCore(tradable=frozenset({"AAPL"}))
    line = b'{"id":"s1","symbol":"aapl","action":"buy","qty":1}'
    assert core.route(parse_signal(line)) == ToExecutor("AAPL")
    assert isinstance(core.route(parse_signal(line)), Duplicate)


def test_ids_from_before_a_restart_are_duplicates() -> None:
    """Ids the journal remembers stay duplicates after a restart."""
    core = SignalRouterCore()
    core.remember({"old"})
    assert isinstance(
        core.route(parse_signal(b'{"id":"old","symbol":"X","action":"close"}')), Duplicate
    )


def test_unknown_symbol_is_rejected_and_not_remembered() -> None:
    """An untradable symbol is rejected; the same id may come back corrected."""
    core = SignalRouterCore(tradable=frozenset({"AAPL"}))
    bad = core.route(parse_signal(b'{"id":"s","symbol":"NOPE","action":"buy","qty":1}'))
    assert isinstance(bad, Reject)
    assert "NOPE" in bad.reason
    assert core.route(
        parse_signal(b'{"id":"s","symbol":"AAPL","action":"buy","qty":1}')
    ) == ToExecutor("AAPL")


def test_rebalance_is_routed_whole_and_checked_for_untradable_targets() -> None:
    """A rebalance goes to the rebalance runner; one naming an untradable symbol is rejected."""
    core = SignalRouterCore(tradable=frozenset({"AAPL", "MSFT"}))
    good = parse_signal(b'{"id":"r1","action":"rebalance","targets":{"aapl":0.5,"MSFT":0.5}}')
    bad = parse_signal(b'{"id":"r2","action":"rebalance","targets":{"AAPL":0.5,"NOPE":0.1}}')
    assert core.route(good) == ToRebalance()
    assert isinstance(core.route(good), Duplicate)
    rejected = core.route(bad)
    assert isinstance(rejected, Reject)
    assert "NOPE" in rejected.reason
