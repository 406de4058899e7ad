"""A flood of wrong-passphrase requests against the webhook, over real loopback HTTP: the
flood is bounded by its source's budget of failed requests, and never delays the real
strategy's alerts from another source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trio

from daemon.config import WebhookConfig
from daemon.webhook.auth import Throttle, WebhookToken
from daemon.webhook.server import AlertEndpoint, serve_webhook

if TYPE_CHECKING:
    from daemon.supervisor import Daemon

TOKEN = WebhookToken(name="tv", token="t" * 24, passphrase="open sesame")
# Room for exactly the real alerts below: were the flood charged to the token, they would
# meet its limit.
CONFIG = WebhookConfig(
    bind="127.0.0.1:0",
    burst=10,
    rate_per_minute=6,
    auth_failures_burst=5,
    auth_failures_per_minute=6,
)
FLOOD = 40
REAL = 10


def alert(n: int, passphrase: str = TOKEN.passphrase) -> dict[str, Any]:
    # Each its own size: the duplicate-order window would deny repeats of one order.
    return {
        "passphrase": passphrase,
        "ticker": "AAPL",
        "action": "buy",
        "contracts": n + 1,
        "id": f"real-{n}",
    }


@pytest.fixture
async def webhook(daemon: Daemon, nursery: trio.Nursery) -> tuple[str, list[Throttle]]:
    throttled: list[Throttle] = []
    endpoint = AlertEndpoint.create(daemon.intake, (TOKEN,), CONFIG, on_throttle=throttled.append)
    binds = await nursery.start(serve_webhook, endpoint, "127.0.0.1:0")
    return binds[0], throttled


def client_from(base_url: str, address: str) -> httpx.AsyncClient:
    """A client whose connections come from ``address`` (any 127.x address is loopback)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=10)


async def test_a_wrong_passphrase_flood_does_not_delay_the_right_ones_alerts(
    webhook: tuple[str, list[Throttle]], daemon: Daemon
) -> None:
    """Interleaved with 40 wrong-passphrase posts from another address, every real alert is
    accepted at once; the flood is answered 401 up to its budget, then 429 with Retry-After."""
    url, throttled = webhook
    path = f"/webhook/{TOKEN.token}"
    flood_codes: list[int] = []
    real: list[httpx.Response] = []
    async with client_from(url, "127.0.0.2") as stranger, client_from(url, "127.0.0.1") as tv:
        for n in range(FLOOD):
            response = await stranger.post(path, json=alert(n, passphrase="guess"))
            flood_codes.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["Retry-After"]) >= 1
            if n % (FLOOD // REAL) == 0:
                real.append(await tv.post(path, json=alert(n)))
    assert flood_codes == [401] * 5 + [429] * (FLOOD - 5)
    assert [(r.status_code, r.json()["status"]) for r in real] == [(200, "accepted")] * REAL
    assert throttled == [Throttle.AUTH_FAILURES] * (FLOOD - 5)
    with trio.fail_after(10):
        await daemon.activity.wait_idle()
    assert daemon.positions() == {"AAPL": sum(n + 1 for n in range(0, FLOOD, FLOOD // REAL))}


async def test_behind_a_proxy_the_forwarded_address_is_the_source(
    webhook: tuple[str, list[Throttle]],
) -> None:
    """Through a reverse proxy on loopback, the address it appended to X-Forwarded-For keys
    the budget: the stranger's flood leaves the real sender's alerts alone, whatever
    the stranger wrote into the header itself."""
    url, _ = webhook
    path = f"/webhook/{TOKEN.token}"
    stranger = {"X-Forwarded-For": "52.89.214.238, 203.0.113.9"}
    tradingview = {"X-Forwarded-For": "52.89.214.238"}
    async with client_from(url, "127.0.0.1") as proxy:
        codes = [
            (await proxy.post(path, json=alert(n, "guess"), headers=stranger)).status_code
            for n in range(8)
        ]
        real = await proxy.post(path, json=alert(99), headers=tradingview)
    assert codes == [401] * 5 + [429] * 3
    assert real.status_code == 200


async def test_a_flood_sharing_the_strategys_address_does_not_delay_its_alerts(
    webhook: tuple[str, list[Throttle]], daemon: Daemon
) -> None:
    """Wrong-passphrase posts from the strategy's own address (a stranger's alert sent through
    TradingView's servers, or a proxy that adds no X-Forwarded-For) are answered 429 past
    their budget, but the strategy's authenticated alerts from there are all accepted."""
    url, _ = webhook
    path = f"/webhook/{TOKEN.token}"
    flood_codes: list[int] = []
    real: list[httpx.Response] = []
    async with client_from(url, "127.0.0.1") as tradingview:
        for n in range(FLOOD):
            response = await tradingview.post(path, json=alert(n, passphrase="guess"))
            flood_codes.append(response.status_code)
            if n % (FLOOD // REAL) == 0:
                real.append(await tradingview.post(path, json=alert(n)))
        unknown = await tradingview.post("/webhook/" + "u" * 24, json=alert(0))
    assert flood_codes == [401] * 5 + [429] * (FLOOD - 5)
    assert [(r.status_code, r.json()["status"]) for r in real] == [(200, "accepted")] * REAL
    # A stranger's guess at a token from an address out of budget: 429 before its body.
    assert unknown.status_code == 429
    with trio.fail_after(10):
        await daemon.activity.wait_idle()
    assert daemon.positions() == {"AAPL": sum(n + 1 for n in range(0, FLOOD, FLOOD // REAL))}
