"""The watchdog's pure parts: WATCHDOG_USEC parsing and the inbox stall detector."""

from __future__ import annotations

from daemon.notify import StallDetector, watchdog_seconds


def test_watchdog_seconds_reads_usec_for_this_process_only() -> None:
    """WATCHDOG_USEC in seconds; none when absent, zero, garbage or meant for another pid."""
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000"}, 9) == 30.0
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "9"}, 9) == 30.0
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"}, 9) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "0"}, 9) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "soon"}, 9) is None
    assert watchdog_seconds({}, 9) is None


def test_an_inbox_that_never_shrinks_is_stuck_after_the_window() -> None:
    """Work waiting without the backlog shrinking for stall_after seconds names the actor."""
    detector = StallDetector(stall_after=10)
    assert detector.observe(0, {"router": 3, "risk": 0}) == []
    assert detector.observe(9, {"router": 3, "risk": 0}) == []
    assert detector.observe(10, {"router": 4, "risk": 0}) == ["router"]


def test_a_shrinking_or_empty_inbox_is_progress() -> None:
    """A smaller backlog restarts the window; an empty one forgets the actor."""
    detector = StallDetector(stall_after=10)
    detector.observe(0, {"router": 5})
    assert detector.observe(8, {"router": 2}) == []
    assert detector.observe(17, {"router": 2}) == []
    assert detector.observe(18, {"router": 2}) == ["router"]
    assert detector.observe(19, {"router": 0}) == []
    assert detector.observe(25, {"router": 1}) == []
