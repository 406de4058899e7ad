"""The ids tradingd derives for its orders, and the leg read back out of them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors.ids import client_order_id_for, is_own_client_order_id, leg_of

LEGS = st.sampled_from(["entry", "close", "target", "flat", "open", "tp", "sl", "exit-1"])


@given(signal_id=st.text(min_size=1, max_size=128), leg=LEGS)
def test_the_leg_comes_back_out_of_the_id_it_was_put_in(signal_id: str, leg: str) -> None:
    """Every leg tradingd names is read back from its id, which is tradingd's own."""
    cid = client_order_id_for(signal_id, leg)
    assert len(cid) <= 48
    assert is_own_client_order_id(cid)
    assert leg_of(cid) == leg.rsplit("-", 1)[-1]


def test_an_id_placed_elsewhere_names_no_leg() -> None:
    """An order placed outside tradingd (or a venue-made id) has no leg to read."""
    assert leg_of("manual-order-entry") is None
    assert leg_of("td-nodash") is None
    assert not is_own_client_order_id("manual-order-entry")


def test_a_long_leg_is_read_back_as_the_id_cut_it() -> None:
    """The venue's 48-character limit cuts a long leg name; the leg read back is what is left."""
    assert leg_of(client_order_id_for("s", "averyverylonglegname")) == "averyverylon"
