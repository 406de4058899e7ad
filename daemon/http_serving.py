"""The daemon's inbound HTTP servers (webhook, metrics): hypercorn on trio, set up alike."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as serve_http

from daemon.fatal_errors import bind_failure


async def serve_app(
    app: Any,
    bind: str,
    logger: str,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until cancelled; task_status.started(bound URLs) once listening."""
    http = HypercornConfig()
    http.bind = [bind]
    # No access log: a webhook's path holds its token.
    http.accesslog = None
    http.errorlog = logging.getLogger(logger)
    # Requests here are small (an alert, a scrape): a whole-request limit far below the default.
    http.h11_max_incomplete_size = 16 * 1024
    http.graceful_timeout = 1.0
    async with trio.open_nursery() as nursery:
        try:
            binds: list[str] = await nursery.start(partial(serve_http, app, http))
        except Exception as exc:
            # hypercorn's bind fails deep in its nurseries: say which address, as a listener.
            failure = bind_failure(exc, bind)
            if failure is None:
                raise
            raise failure from exc
        task_status.started(binds)
