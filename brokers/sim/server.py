"""Serving the paper venue: hypercorn for REST, a websockets server for the streams.

``serve_sim`` runs until cancelled. The REST port comes from the config (0: any free one);
the websocket server takes its own free port and serves ``/stream`` (trade updates),
``/v2/iex`` / ``/v2/sip`` (market data) and the Tradovate front's ``/v1/websocket`` (user)
and ``/md/v1/websocket`` (market data).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as serve_http
from websockets.trio.server import ServerConnection
from websockets.trio.server import serve as serve_websockets

from brokers.sim.alpaca.marketdata import serve_market_data
from brokers.sim.alpaca.rest import build_app
from brokers.sim.alpaca.stream import serve_trade_updates
from brokers.sim.config import SimConfig, SimEndpoints
from brokers.sim.scenario import Scenario, play_scenario
from brokers.sim.tradovate.marketdata import serve_market_data_socket
from brokers.sim.tradovate.websocket import serve_user_socket
from brokers.sim.venue import SimVenue

if TYPE_CHECKING:
    from websockets.http11 import Request, Response

log = logging.getLogger("tradingd.sim")

STREAM_PATH = "/stream"
DATA_PATHS = ("/v2/iex", "/v2/sip")
# Tradovate's REST base on the REST port; its user and market-data websockets on the
# streams' port (the real market data has its own host: here a path prefix).
TRADOVATE_REST_PATH = "/v1"
TRADOVATE_WS_PATH = "/v1/websocket"
TRADOVATE_MD_PATH = "/md/v1/websocket"
# Clients send small control messages only.
MAX_INBOUND_MESSAGE = 64 * 1024


async def serve_sim(
    config: SimConfig,
    scenario: Scenario | None = None,
    *,
    task_status: trio.TaskStatus[SimEndpoints] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; task_status.started(endpoints) once both servers listen.

    With a ``scenario``, its script starts playing once the venue listens.
    """
    venue = SimVenue.from_config(config)
    async with trio.open_nursery() as nursery:
        endpoints = await nursery.start(serve_venue, venue, config)
        if scenario is not None:
            nursery.start_soon(play_scenario, venue, scenario)
        task_status.started(endpoints)


async def serve_venue(
    venue: SimVenue,
    config: SimConfig,
    *,
    task_status: trio.TaskStatus[SimEndpoints] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve an existing ``venue`` (tests that drive it directly keep a handle on it)."""
    async with trio.open_nursery() as nursery:
        alpaca_url = await _start_rest(nursery, venue, config)
        ws_server = await nursery.start(
            partial(
                serve_websockets,
                partial(_route_websocket, venue),
                config.stream_port,
                host=config.host,
                process_request=_refuse_unknown_path,
                compression=None,
                max_size=MAX_INBOUND_MESSAGE,
            )
        )
        host, port = ws_server.listeners[0].socket.getsockname()[:2]
        nursery.start_soon(_reprint_prices, venue, config.reprint_interval)
        nursery.start_soon(_keep_time, venue)
        endpoints = SimEndpoints(
            alpaca_url=alpaca_url,
            stream_url=f"ws://{_url_host(host)}:{port}{STREAM_PATH}",
            data_url=f"ws://{_url_host(host)}:{port}{DATA_PATHS[0]}",
            tradovate_url=f"{alpaca_url}{TRADOVATE_REST_PATH}",
            tradovate_ws_url=f"ws://{_url_host(host)}:{port}{TRADOVATE_WS_PATH}",
            tradovate_md_url=f"ws://{_url_host(host)}:{port}{TRADOVATE_MD_PATH}",
        )
        log.info("paper venue listening: %s", endpoints)
        task_status.started(endpoints)


async def _start_rest(nursery: trio.Nursery, venue: SimVenue, config: SimConfig) -> str:
    http = HypercornConfig()
    http.bind = [f"{_url_host(config.host)}:{config.port}"]
    http.accesslog = None
    # The REST answers carry the venue's own Date (its clock may run ahead of the system's).
    http.include_date_header = False
    http.errorlog = logging.getLogger("tradingd.sim.http")
    binds: list[str] = await nursery.start(
        partial(serve_http, build_app(venue), http)  # type: ignore[arg-type]
    )
    return binds[0]


async def _route_websocket(venue: SimVenue, ws: ServerConnection) -> None:
    assert ws.request is not None
    if ws.request.path == STREAM_PATH:
        await serve_trade_updates(ws, venue.trade_updates, venue.authorize)
    elif ws.request.path == TRADOVATE_WS_PATH:
        await serve_user_socket(ws, venue.tradovate)
    elif ws.request.path == TRADOVATE_MD_PATH:
        await serve_market_data_socket(ws, venue.tradovate)
    else:
        await serve_market_data(ws, venue.market_data, venue.authorize, venue.current_prints)


def _refuse_unknown_path(ws: ServerConnection, request: Request) -> Response | None:
    if request.path in (TRADOVATE_WS_PATH, TRADOVATE_MD_PATH):
        # Tradovate's liveness is its own heartbeats (h and []) and the client-silence drop;
        # websockets' pings would also close a client slow to read, with 1011 and no c frame.
        ws.ping_interval = None
        return None
    if request.path in (STREAM_PATH, *DATA_PATHS):
        return None
    return ws.respond(404, "not found\n")


async def _reprint_prices(venue: SimVenue, interval: float) -> None:
    while True:
        await trio.sleep(interval)
        venue.reprint()


async def _keep_time(venue: SimVenue) -> None:
    """Close and open sessions and publish bars as venue time passes their moments."""
    while True:
        await venue.clock.sleep_until(venue.next_deadline())
        venue.catch_up()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
