"""The rest of an order's life on the trade_updates stream, over loopback: expiry at the
session close (crossed by trio time or by POST /_sim/clock), done_for_day, rejection after
acceptance, the pending states, and a bracket's legs nested in its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import trio
from websockets.trio.client import connect

from brokers.sim import SimConfig, SimControl, SimEndpoints
from tests.integration.sim_fixtures import MARKET, PRICES, event, open_listener

if TYPE_CHECKING:
    import httpx

# Two minutes before the session closes at 21:00 UTC.
START = datetime(2026, 1, 5, 20, 58, tzinfo=UTC)
CLOSE = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)
RESTING = MARKET | {"type": "limit", "limit_price": "90"}


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(prices=PRICES, start_time=START)


async def place(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v2/orders", json=body)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


async def status(client: httpx.AsyncClient, order_id: str) -> str:
    found: str = (await client.get(f"/v2/orders/{order_id}")).json()["status"]
    return found


async def test_day_order_expires_when_trio_time_crosses_the_close(
    venue: SimEndpoints, client: httpx.AsyncClient, autojump_clock: Any
) -> None:
    """A resting day order is new until 21:00 venue time, then expired; a gtc order is not."""
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        day = await place(client, RESTING)
        gtc = await place(client, RESTING | {"time_in_force": "gtc"})
        assert [(await event(ws))["event"] for _ in range(2)] == ["new", "new"]
        # Short of the close by more than the venue's 10 s reprint, its nearest timer.
        await trio.sleep(100)
        assert await status(client, day["id"]) == "new"
        await trio.sleep(30)
        expired = await event(ws)
    assert (expired["event"], expired["order"]["id"]) == ("expired", day["id"])
    assert expired["order"]["expired_at"] == expired["timestamp"] == "2026-01-05T21:00:00Z"
    assert await status(client, day["id"]) == "expired"
    assert await status(client, gtc["id"]) == "new"


async def test_moving_the_clock_past_the_close_expires_day_orders_before_answering(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """POST /_sim/clock past the close answers the new time; the order is already expired,
    and an ioc that cannot fill expires at once."""
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        day = await place(client, RESTING)
        await event(ws)
        target = CLOSE + timedelta(minutes=30)
        now = await control.set_clock(target)
        assert timedelta(0) <= now - target < timedelta(seconds=5)  # real time runs on
        assert await status(client, day["id"]) == "expired"
        assert (await event(ws))["event"] == "expired"
        ioc = await place(client, RESTING | {"time_in_force": "ioc"})
        assert [(await event(ws))["event"] for _ in range(2)] == ["new", "expired"]
    assert await status(client, ioc["id"]) == "expired"
    clock = (await client.get("/v2/clock")).json()
    assert clock["timestamp"].startswith("2026-01-05T21:30:00")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"advance": -1}, "advance must be"),
        ({"advance": 1, "to": "2026-01-06T00:00:00Z"}, "exactly one"),
        ({"to": "2026-01-01T00:00:00Z"}, "never goes back"),
        ({"to": "2026-01-06T00:00:00"}, "UTC offset"),
        ({"tomorrow": True}, "request body format is invalid"),
    ],
)
async def test_bad_clock_moves_are_refused_and_change_nothing(
    venue: SimEndpoints, client: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    """A clock move back, malformed or ambiguous is refused with a reason; time stays put."""
    before = (await client.get("/v2/clock")).json()["timestamp"]
    response = await client.post("/_sim/clock", json=body)
    assert response.status_code in (400, 422)
    assert message in response.json()["message"]
    after = (await client.get("/v2/clock")).json()["timestamp"]
    assert after[:16] == before[:16] == "2026-01-05T20:58"


async def test_done_for_day_then_working_again_at_the_open(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """With done_for_day a gtc order is done_for_day at the close, does not fill overnight,
    and fills once the next session opens."""
    await control.fault("done_for_day")
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        gtc = await place(client, RESTING | {"time_in_force": "gtc"})
        await event(ws)
        await control.advance_clock(180)
        done = await event(ws)
        assert (done["event"], done["order"]["status"]) == ("done_for_day", "done_for_day")
        await control.set_prices({"AAPL": "89"})
        assert await status(client, gtc["id"]) == "done_for_day"
        await control.set_clock(datetime(2026, 1, 6, 14, 30, tzinfo=UTC))
        fill = await event(ws)
    assert (fill["event"], fill["order"]["id"], fill["price"]) == ("fill", gtc["id"], "89")


async def test_reject_after_accept_answers_accepted_then_streams_rejected(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """The POST answers the order accepted; the stream says rejected; nothing fills and the
    order reached the core once."""
    await control.fault("reject_after_accept")
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        order = await place(client, MARKET | {"client_order_id": "refused-later"})
        assert order["status"] == "accepted"
        rejected = await event(ws)
        after = await place(client, MARKET)  # count 1: the next order is normal
        assert (await event(ws))["event"] == "new"
    assert (rejected["event"], rejected["order"]["id"]) == ("rejected", order["id"])
    assert rejected["order"]["failed_at"] == rejected["timestamp"]
    assert await status(client, order["id"]) == "rejected"
    assert await status(client, after["id"]) == "filled"
    state = await control.state()
    assert state["submissions"]["refused-later"] == 1
    assert [p["qty"] for p in state["positions"]] == ["1"]


async def test_pending_states_come_before_new_replaced_and_canceled(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """With the three pending options, the stream shows pending_new, pending_replace and
    pending_cancel just before new, replaced and canceled."""
    for name in ("pending_new", "pending_replace", "pending_cancel"):
        await control.fault(name)
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        order = await place(client, RESTING)
        patched = await client.patch(f"/v2/orders/{order['id']}", json={"limit_price": "91"})
        assert (await client.delete(f"/v2/orders/{patched.json()['id']}")).status_code == 204
        seen = [await event(ws) for _ in range(7)]
    assert [(e["event"], e["order"]["status"]) for e in seen] == [
        ("pending_new", "pending_new"),
        ("new", "new"),
        ("pending_replace", "pending_replace"),
        ("replaced", "replaced"),
        ("new", "new"),
        ("pending_cancel", "pending_cancel"),
        ("canceled", "canceled"),
    ]
    assert len({e["execution_id"] for e in seen}) == 7


async def test_bracket_events_nest_the_legs(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """The bracket parent's new and fill carry both legs, as REST nests them."""
    bracket = MARKET | {
        "qty": "2",
        "time_in_force": "gtc",
        "order_class": "bracket",
        "take_profit": {"limit_price": "110"},
        "stop_loss": {"stop_price": "95"},
    }
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        placed = await place(client, bracket)
        new, fill, armed = [await event(ws) for _ in range(3)]
    ids = [leg["id"] for leg in placed["legs"]]
    assert [leg["id"] for leg in new["order"]["legs"]] == ids
    assert [leg["status"] for leg in new["order"]["legs"]] == ["held", "held"]
    assert fill["order"]["legs"][0]["order_class"] == "bracket"
    assert (armed["order"]["id"], armed["order"]["legs"]) == (ids[0], None)


async def test_a_slow_cancel_can_lose_the_race_to_a_fill(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl, autojump_clock: Any
) -> None:
    """With pending_cancel for 500 ms, a DELETE answers 204 and streams pending_cancel at
    once; a fill in that window wins, and the cancel is then refused. Without a fill the
    order is canceled when the time is up."""
    await control.fault("pending_cancel", ms=500)
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        racing = await place(client, RESTING)
        quiet = await place(client, RESTING | {"limit_price": "80"})
        await event(ws), await event(ws)
        assert (await client.delete(f"/v2/orders/{racing['id']}")).status_code == 204
        await trio.sleep(0.1)  # the two cancels end 100 ms apart, in a known order
        assert (await client.delete(f"/v2/orders/{quiet['id']}")).status_code == 204
        assert await status(client, racing["id"]) == "pending_cancel"
        await control.set_prices({"AAPL": "89"})
        seen = [await event(ws) for _ in range(5)]
    assert [(e["event"], e["order"]["id"]) for e in seen] == [
        ("pending_cancel", racing["id"]),
        ("pending_cancel", quiet["id"]),
        ("fill", racing["id"]),
        ("order_cancel_rejected", racing["id"]),
        ("canceled", quiet["id"]),
    ]
    assert await status(client, racing["id"]) == "filled"
    assert await status(client, quiet["id"]) == "canceled"
