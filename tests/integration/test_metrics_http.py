"""`GET /metrics` over real loopback HTTP, against a daemon on the embedded paper venue."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import httpx
import trio

from daemon.control.server import metrics_page
from daemon.metrics import Metrics, run_metrics
from daemon.metrics_http import CONTENT_TYPE, serve_metrics
from tests.prometheus_text import parse_exposition, value

if TYPE_CHECKING:
    from daemon.supervisor import Daemon


async def test_prometheus_can_scrape_the_page_over_http(
    daemon: Daemon, nursery: trio.Nursery
) -> None:
    """200 with the exposition content type and a page that parses; nothing else is served."""
    metrics = Metrics()
    await nursery.start(run_metrics, daemon.journal, metrics)
    [url] = await nursery.start(
        serve_metrics, partial(metrics_page, daemon, metrics), "127.0.0.1:0"
    )
    with trio.fail_after(10):
        await daemon.intake.submit(b'{"id":"h1","symbol":"AAPL","action":"buy","qty":1}', "t")
        await daemon.activity.wait_idle()
        async with httpx.AsyncClient(base_url=url) as http:
            scrape = await http.get("/metrics")
            posted = await http.post("/metrics")
            elsewhere = await http.get("/")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"] == CONTENT_TYPE
    families = parse_exposition(scrape.text)
    assert value(families, "tradingd_signals_total", status="accepted") == 1
    assert value(families, "tradingd_stream_healthy") == 1
    assert (posted.status_code, elsewhere.status_code) == (405, 404)
