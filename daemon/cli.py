"""``tradingd``: the command line.

tradingd run [--config PATH] [--once]   the daemon (no config: the embedded paper venue)
tradingd sim [--port N] [--seed N]     the paper venue alone; prints one ready line
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import msgspec
import trio

from brokers.errors import TradingError
from daemon.config import Config, load_config
from daemon.credentials import Credentials, load_credentials
from daemon.logs import configure_logging
from daemon.sources import AckWriter, serve_ndjson, stdin_stream, stdout_stream
from daemon.summary import build_summary
from daemon.supervisor import open_daemon

log = logging.getLogger("tradingd")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    configure_logging(os.environ.get("TRADINGD_LOG_LEVEL", "INFO"))
    try:
        code = args.func(args)
    except TradingError as exc:
        log.error("%s", exc)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradingd", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the daemon")
    run.add_argument("--config", help="TOML config (default: the embedded paper venue)")
    run.add_argument(
        "--once",
        action="store_true",
        help="read signals until EOF, wait until every order is final, print a summary, exit",
    )
    run.add_argument(
        "--settle-timeout",
        type=float,
        default=30.0,
        help="seconds to wait for orders to reach a final state on exit (default 30)",
    )
    run.set_defaults(func=_cmd_run)

    sim = commands.add_parser("sim", help="run the paper venue alone")
    sim.add_argument("--port", type=int, default=0, help="REST port (0: any free port)")
    sim.add_argument("--seed", type=int, default=7, help="price seed (same seed, same fills)")
    sim.set_defaults(func=_cmd_sim)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    credentials = load_credentials(
        config.broker.kind, os.environ, os.environ.get("CREDENTIALS_DIRECTORY")
    )
    with tempfile.TemporaryDirectory(prefix="tradingd-") as scratch:
        journal_path = _journal_path(config, scratch)
        return trio.run(_run, config, credentials, journal_path, args.once, args.settle_timeout)


def _journal_path(config: Config, scratch: str) -> str:
    if config.journal.path is not None:
        return config.journal.path
    if config.broker.kind == "paper" and config.broker.base_url is None:
        # A fresh embedded venue each run: a journal kept across runs would describe
        # positions that venue never had. Configure [journal] path to keep one.
        log.info("paper session: the journal is temporary (set [journal] path to keep it)")
        return str(Path(scratch) / "journal.sqlite3")
    state = os.environ.get("STATE_DIRECTORY") or str(Path.home() / ".local/state/tradingd")
    Path(state).mkdir(parents=True, exist_ok=True)
    return str(Path(state) / "journal.sqlite3")


async def _run(
    config: Config,
    credentials: Credentials,
    journal_path: str,
    once: bool,
    settle_timeout: float,
) -> int:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as stop_signals:
        async with open_daemon(config, credentials, journal_path=journal_path) as daemon:
            out = AckWriter(stdout_stream())
            if daemon.venue is not None:
                log.info("embedded paper venue at %s", daemon.venue.alpaca_url)
            log.info("ready: reading signals from stdin")
            if once:
                await serve_ndjson(daemon.intake, stdin_stream(), out, "stdin")
                with trio.move_on_after(settle_timeout):
                    await daemon.activity.wait_idle()
                summary = await build_summary(daemon)
                await out.write(summary)
                daemon.stop()
                return 0 if summary.unresolved == 0 else 1
            async with trio.open_nursery() as intake:
                # EOF on stdin closes that source only; the daemon runs until told to stop.
                intake.start_soon(serve_ndjson, daemon.intake, stdin_stream(), out, "stdin")
                async for signum in stop_signals:
                    log.info(
                        "%s: stopping intake, letting orders settle", signal.Signals(signum).name
                    )
                    break
                intake.cancel_scope.cancel()
            with trio.move_on_after(settle_timeout):
                await daemon.activity.wait_idle()
            await daemon.journal.flush()
            unresolved = daemon.unresolved()
            if unresolved:
                log.warning("stopping with %d orders not final", unresolved)
            daemon.stop()
            return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    from brokers.sim import SimConfig, SimEndpoints, serve_sim

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            endpoints: SimEndpoints = await nursery.start(
                serve_sim, SimConfig(port=args.port, seed=args.seed)
            )
            ready = {
                "kind": "ready",
                "alpaca_url": endpoints.alpaca_url,
                "stream_url": endpoints.stream_url,
                "data_url": endpoints.data_url,
            }
            sys.stdout.write(msgspec.json.encode(ready).decode() + "\n")
            sys.stdout.flush()
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as stop_signals:
                async for _ in stop_signals:
                    break
            nursery.cancel_scope.cancel()

    trio.run(serve)
    return 0


if __name__ == "__main__":
    main()
