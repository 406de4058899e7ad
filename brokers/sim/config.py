"""How the paper venue is configured, and where it listens once started."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from brokers.sim.core.assets import SimAsset


@attrs.frozen
class SimEndpoints:
    alpaca_url: str  # "http://127.0.0.1:PORT" (no /v2 suffix; paths are /v2/...)
    stream_url: str  # "ws://127.0.0.1:PORT2/stream"
    data_url: str  # "ws://127.0.0.1:PORT2/v2/iex"
    tradovate_url: str = ""  # "http://127.0.0.1:PORT/v1": Tradovate's REST base
    tradovate_ws_url: str = ""  # "ws://127.0.0.1:PORT2/v1/websocket"
    tradovate_md_url: str = ""  # "ws://127.0.0.1:PORT2/md/v1/websocket"


@attrs.define
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0  # REST port; 0 = any free port. The stream server gets its own free port.
    stream_port: int = 0  # the streams' (orders, market data) port; 0 = any free port
    seed: int = 7  # seeded prices: same seed, same prices, same fills
    cash: Decimal = Decimal(100000)
    prices: dict[str, Decimal] | None = None  # None = the default universe
    # Starting prices of futures contracts (``MNQZ6`` or ``MNQ1!``, on the tick grid);
    # the others are seeded.
    futures_prices: dict[str, Decimal] | None = None
    key_id: str | None = None  # None = accept any non-empty credentials
    secret_key: str | None = None
    # The Tradovate front's credentials (None: any non-empty name and password).
    tradovate_username: str | None = None
    tradovate_password: str | None = None
    # A Tradovate websocket client that sends nothing (not even its ``[]`` heartbeat) for
    # this many seconds is dropped.
    ws_client_timeout: float = 30.0
    # Instruments with their own flags (untradable, not shortable ...); their prices come
    # from ``prices`` when given there, else they must be in the default universe.
    assets: Sequence[SimAsset] = ()
    # Every this many seconds the market-data stream prints the current prices again, so
    # subscribers' last prices stay fresh while nothing moves them.
    reprint_interval: float = 10.0
    # Largest quantity one match fills (partial fills); None fills orders whole.
    fill_size: Decimal | None = None
    # Alpaca's per-minute request limit on /v2 (429 beyond it); None: unlimited.
    rate_limit_per_minute: int | None = None
    # The venue's time when it starts (timezone-aware); None: the system's time. Venue time
    # then runs with trio's clock, and POST /_sim/clock moves it on.
    start_time: datetime | None = None


def with_venue_credentials(config: SimConfig, environ: Mapping[str, str]) -> SimConfig:
    """``config`` with the credentials its environment names: ``APCA_API_KEY_ID`` and
    ``APCA_API_SECRET_KEY`` for the Alpaca front, ``TRADOVATE_USERNAME`` and
    ``TRADOVATE_PASSWORD`` for the Tradovate front. A front whose pair is not (wholly) set
    accepts any non-empty credentials, as before."""
    key_id, secret = environ.get("APCA_API_KEY_ID"), environ.get("APCA_API_SECRET_KEY")
    username, password = environ.get("TRADOVATE_USERNAME"), environ.get("TRADOVATE_PASSWORD")
    if key_id and secret:
        config = attrs.evolve(config, key_id=key_id, secret_key=secret)
    if username and password:
        config = attrs.evolve(config, tradovate_username=username, tradovate_password=password)
    return config
