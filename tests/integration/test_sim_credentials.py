"""`tradingd sim` takes each front's credentials from its environment, and the embedded
venue of `tradingd run` takes the daemon's own: real processes, real loopback sockets."""

from __future__ import annotations

import subprocess
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import trio

from brokers.sim.config import SimConfig, with_venue_credentials
from daemon.credentials import PAPER_KEY_ID, PAPER_SECRET_KEY
from tests.integration.daemons import ROOT, TRADINGD, read_line
from tests.integration.process_errors import quiet_environ

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from daemon.supervisor import Daemon

UNAUTHORIZED = {"message": "unauthorized"}


@asynccontextmanager
async def tradingd_sim(**env: str) -> AsyncIterator[dict[str, Any]]:
    """`tradingd sim --port 0` with ``env`` added to a clean environment: its ready line."""
    environ = {k: v for k, v in quiet_environ(**env).items() if not k.startswith("TRADOVATE_")}
    proc = await trio.lowlevel.open_process(
        [*TRADINGD, "sim", "--port", "0"],
        cwd=ROOT,
        env={**environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        with trio.fail_after(30):
            yield msgspec.json.decode(await read_line(proc.stdout))
    finally:
        proc.kill()
        with trio.fail_after(10):
            await proc.wait()
        if proc.stdout is not None:
            await proc.stdout.aclose()


async def account_status(url: str, key: str, secret: str) -> tuple[int, Any]:
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    async with httpx.AsyncClient() as client:
        with trio.fail_after(10):
            response = await client.get(f"{url}/v2/account", headers=headers)
    return response.status_code, response.json()


async def test_the_ready_line_names_the_tradovate_urls() -> None:
    """The ready line gains the Tradovate REST base (ending in /v1), user and md sockets."""
    async with tradingd_sim() as ready:
        rest, stream = ready["alpaca_url"], ready["stream_url"].removesuffix("/stream")
        assert ready["tradovate_url"] == f"{rest}/v1"
        assert ready["tradovate_ws_url"] == f"{stream}/v1/websocket"
        assert ready["tradovate_md_url"] == f"{stream}/md/v1/websocket"


async def test_the_alpaca_keys_in_the_environment_are_the_only_ones_taken() -> None:
    """APCA_API_KEY_ID/SECRET set: the right pair gets the account, another Alpaca's 401."""
    async with tradingd_sim(APCA_API_KEY_ID="venue-key", APCA_API_SECRET_KEY="venue-secret") as r:
        assert (await account_status(r["alpaca_url"], "venue-key", "venue-secret"))[0] == 200
        assert await account_status(r["alpaca_url"], "venue-key", "wrong") == (401, UNAUTHORIZED)
        assert await account_status(r["alpaca_url"], "other", "venue-secret") == (
            401,
            UNAUTHORIZED,
        )


async def test_with_no_keys_in_the_environment_any_pair_is_taken() -> None:
    """No APCA_* in the environment: any non-empty pair gets the account, as before."""
    async with tradingd_sim() as ready:
        assert (await account_status(ready["alpaca_url"], "any", "thing"))[0] == 200


def test_the_tradovate_login_in_the_environment_goes_to_its_front() -> None:
    """TRADOVATE_USERNAME/PASSWORD fill the Tradovate front's credentials; unset or half
    set, nothing changes."""
    environ = {"TRADOVATE_USERNAME": "trader", "TRADOVATE_PASSWORD": "pw"}
    config = with_venue_credentials(SimConfig(), environ)
    assert (config.tradovate_username, config.tradovate_password) == ("trader", "pw")
    assert (config.key_id, config.secret_key) == (None, None)
    half = with_venue_credentials(SimConfig(), {"TRADOVATE_USERNAME": "trader"})
    assert half.tradovate_username is None


async def test_the_embedded_venue_takes_the_daemons_own_keys(daemon: Daemon) -> None:
    """The embedded paper venue answers the daemon's keys and refuses others."""
    assert daemon.venue is not None
    url = daemon.venue.alpaca_url
    assert (await account_status(url, PAPER_KEY_ID, PAPER_SECRET_KEY))[0] == 200
    assert await account_status(url, "someone", "else") == (401, UNAUTHORIZED)
