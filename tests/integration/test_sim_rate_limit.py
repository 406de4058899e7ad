"""The venue's configured per-minute limit over real HTTP: headers on every answer, 429 past it."""

from __future__ import annotations

from decimal import Decimal

import httpx

from brokers.sim import SimConfig, SimControl, running_sim
from tests.integration.sim_fixtures import AUTH, MARKET


async def test_requests_past_the_per_minute_limit_answer_429_without_reaching_the_core() -> None:
    """With a limit of 2, the third order is 429 42910000 and is not counted as a submission."""
    config = SimConfig(prices={"AAPL": Decimal("100.00")}, rate_limit_per_minute=2)
    async with (
        running_sim(config) as venue,
        httpx.AsyncClient(base_url=venue.alpaca_url, headers=AUTH) as client,
        SimControl(venue) as control,
    ):
        answers = [
            await client.post("/v2/orders", json=MARKET | {"client_order_id": f"o{n}"})
            for n in range(3)
        ]
        state = await control.state()
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["X-Ratelimit-Limit"] == "2"
    assert answers[1].headers["X-Ratelimit-Remaining"] == "0"
    assert answers[2].json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert int(answers[2].headers["X-Ratelimit-Reset"]) > 0
    assert state["submissions"] == {"o0": 1, "o1": 1}
