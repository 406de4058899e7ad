"""``GET /metrics`` over HTTP, for Prometheus to scrape (``[metrics] bind``).

The same page as ``tradingd metrics``. Bind it to loopback (or a private address) and let
Prometheus reach it there: it tells positions, orders and health, never a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from daemon.http_serving import serve_app

if TYPE_CHECKING:
    from starlette.requests import Request

log = logging.getLogger("tradingd.metrics")

# The text exposition format's content type; Prometheus reads the version from it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Page = Callable[[], Awaitable[str]]


def build_metrics_app(page: Page) -> Starlette:
    async def metrics(_: Request) -> Response:
        return PlainTextResponse(await page(), media_type=CONTENT_TYPE)

    return Starlette(routes=[Route("/metrics", metrics, methods=["GET"])])


async def serve_metrics(
    page: Page,
    bind: str,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; task_status.started(bound URLs) once listening."""
    app = build_metrics_app(page)
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(serve_app, app, bind, "tradingd.metrics.http")
        log.info("metrics on %s", ", ".join(f"{b}/metrics" for b in binds), extra={"binds": binds})
        task_status.started(binds)
