"""``tradingd``: the command line.

tradingd run [--config PATH] [--once]   the daemon (no config: the embedded paper venue)
tradingd sim [--port N] [--seed N] [--scenario FILE]   the paper venue alone; prints "ready"
tradingd status | positions | orders | audit | trades [--json]   ask the running daemon
tradingd halt [--flatten] | resume     the kill switch
tradingd reconcile | corrections [--json]   compare with the venue now; the correction queue
tradingd approve ID                    apply one queued correction
tradingd signals --failed [--json] | signals clear ID   quarantined signals; resolve one
tradingd metrics                       Prometheus text format
tradingd send                          signals from stdin to the running daemon, acks to stdout

Every command exits with a status of ``daemon.exit_status`` (README "Exit status"): what an
operator must fix is one ERROR line (``daemon.fatal_errors``), a bug keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

import msgspec
import trio

from daemon.config import Config, load_config
from daemon.control.client import ControlUnavailable, ask, render_reply, send_signals
from daemon.control.server import ControlRequest
from daemon.credentials import Credentials, load_credentials
from daemon.exit_status import ExitStatus
from daemon.fatal_errors import bind_failure, explain
from daemon.listeners import client_socket_path
from daemon.logs import (
    LOG_FORMATS,
    LogFormat,
    configure_logging,
    default_format,
    stderr_is_journal,
)
from daemon.notify import Notifier
from daemon.service import serve_until_stopped
from daemon.sources import AckWriter, serve_stdin, stdin_stream, stdout_stream
from daemon.startup.front import Front
from daemon.summary import build_summary
from daemon.supervisor import open_daemon
from daemon.webhook.server import load_tokens

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger("tradingd")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    configure_logging(
        os.environ.get("TRADINGD_LOG_LEVEL", "INFO"),
        _log_format(args),
        journal_priority=stderr_is_journal(os.environ),
    )
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        code = ExitStatus.INTERRUPTED
    except Exception as exc:
        fatal = explain(exc)
        if fatal is None:
            raise  # a bug: its traceback is the report
        log.error("%s", fatal.message, extra={"exit_status": int(fatal.status)})
        code = fatal.status
    sys.exit(code)


def _log_format(args: argparse.Namespace) -> LogFormat:
    """--log-format, else $TRADINGD_LOG_FORMAT, else json under systemd and text elsewhere."""
    chosen = getattr(args, "log_format", None) or os.environ.get("TRADINGD_LOG_FORMAT")
    if chosen in LOG_FORMATS:
        return cast("LogFormat", chosen)
    return default_format(os.environ, on_terminal=sys.stderr.isatty())


class _Parser(argparse.ArgumentParser):
    """argparse, exiting with the usage status (64) rather than its own 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitStatus.USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tradingd", description=__doc__.split("\n\n")[0])
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
    run.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="stderr lines: json (one object per line; the default under systemd) or text",
    )
    run.set_defaults(func=_cmd_run)

    sim = commands.add_parser("sim", help="run the paper venue alone")
    sim.add_argument("--port", type=int, default=0, help="REST port (0: any free port)")
    sim.add_argument("--seed", type=int, default=7, help="price seed (same seed, same fills)")
    sim.add_argument(
        "--scenario",
        type=Path,
        help="TOML scenario: prices, scripted moves and faults (its seed wins)",
    )
    sim.set_defaults(func=_cmd_sim)

    for name, what in (
        ("status", "the running daemon at a glance"),
        ("positions", "confirmed positions with realized P&L"),
        ("orders", "orders with their latest state"),
        ("audit", "the venue-call log"),
        ("reconcile", "compare every position with the venue's now, with causes"),
        ("corrections", "drift corrections: queued, applied and the rest"),
        ("trades", "closed round trips with realized P&L and exit reason"),
    ):
        query = commands.add_parser(name, help=what)
        _socket_argument(query)
        query.add_argument("--json", action="store_true", help="the reply's data as JSON")
        if name in ("orders", "audit", "trades", "corrections"):
            query.add_argument("--symbol", help="only this symbol's")
            query.add_argument("--limit", type=int, default=100, help="at most this many (100)")
        if name in ("audit", "trades"):
            when = "closed" if name == "trades" else "called"
            query.add_argument(
                "--since", type=_utc_time, help=f"{when} at or after (ISO 8601; UTC if no offset)"
            )
            query.add_argument(
                "--until", type=_utc_time, help=f"{when} before (ISO 8601; UTC if no offset)"
            )
        query.set_defaults(func=_cmd_query, command=name)

    approve = commands.add_parser("approve", help="apply one queued drift correction")
    approve.add_argument("id", type=int, help="the correction's id (see `tradingd corrections`)")
    _socket_argument(approve)
    approve.add_argument("--json", action="store_true", help="the reply's data as JSON")
    approve.set_defaults(func=_cmd_query, command="approve")

    _signals_parser(commands)

    metrics = commands.add_parser("metrics", help="Prometheus text format")
    _socket_argument(metrics)
    metrics.set_defaults(func=_cmd_query, command="metrics", json=False)

    halt = commands.add_parser(
        "halt",
        help="kill switch: deny new entries, cancel working entries, keep the exits "
        "(--flatten: and close every position)",
    )
    halt.add_argument("--flatten", action="store_true", help="close every position too")
    resume = commands.add_parser("resume", help="lift a halt or a daily-loss latch")
    for switch in (halt, resume):
        _socket_argument(switch)
        switch.add_argument("--json", action="store_true", help="the reply's data as JSON")
        switch.set_defaults(func=_cmd_query, command=switch.prog.split()[-1])

    send = commands.add_parser("send", help="signals from stdin to the running daemon")
    _socket_argument(send)
    send.set_defaults(func=_cmd_send)
    return parser


def _signals_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    signals = commands.add_parser(
        "signals", help="quarantined signals (their handling raised): --failed, clear ID"
    )
    signals.add_argument("--failed", action="store_true", help="list the quarantined signals")
    _socket_argument(signals)
    signals.add_argument("--json", action="store_true", help="the reply's data as JSON")
    signals.set_defaults(func=_cmd_signals, command="failed_signals")
    actions = signals.add_subparsers(metavar="ACTION")
    clear = actions.add_parser(
        "clear", help="resolve one: it is never worked, and its id stays spent"
    )
    clear.add_argument("signal_id", metavar="ID", help="the signal's id")
    # Given before or after `clear`: SUPPRESS keeps this level from resetting the other's.
    clear.add_argument("--socket", default=argparse.SUPPRESS, help="as for `signals`")
    clear.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    clear.set_defaults(func=_cmd_query, command="clear_signal")


def _cmd_signals(args: argparse.Namespace) -> int:
    if not args.failed:
        log.error("signals: say --failed (the quarantined signals) or `clear ID`")
        return ExitStatus.USAGE
    return _cmd_query(args)


def _socket_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--socket", help="the daemon's socket (default: $TRADINGD_SOCKET or the runtime dir)"
    )


def _utc_time(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is UTC, as the logs and the journal are."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _cmd_query(args: argparse.Namespace) -> int:
    request = ControlRequest(
        command=args.command,
        symbol=getattr(args, "symbol", None),
        since=getattr(args, "since", None),
        until=getattr(args, "until", None),
        limit=getattr(args, "limit", 100),
        flatten=getattr(args, "flatten", False),
        id=getattr(args, "id", None),
        signal_id=getattr(args, "signal_id", None),
    )
    try:
        reply = trio.run(ask, args.socket or client_socket_path(os.environ), request)
    except ControlUnavailable as exc:
        log.error("%s", exc)
        return ExitStatus.UNREACHABLE
    if not reply.ok:
        log.error("%s refused: %s", args.command, reply.error)
        return ExitStatus.REFUSED
    if args.command == "metrics":
        sys.stdout.write(reply.data)
    elif args.json:
        sys.stdout.write(msgspec.json.encode(reply.data).decode() + "\n")
    else:
        sys.stdout.write(render_reply(reply) + "\n")
    return ExitStatus.OK


def _cmd_send(args: argparse.Namespace) -> int:
    path = args.socket or client_socket_path(os.environ)
    try:
        outcome = trio.run(send_signals, path, stdin_stream(), stdout_stream())
    except ControlUnavailable as exc:
        log.error("%s", exc)
        return ExitStatus.UNREACHABLE
    if outcome.complete:
        return ExitStatus.OK
    unsent = "" if outcome.input_read else " (the rest of stdin was not sent)"
    log.error(
        "tradingd at %s closed the connection after acking %d of %d lines sent%s; "
        "a line without an ack may or may not have been taken: send those again once it runs "
        "(one already taken is acked duplicate and trades once)",
        path,
        outcome.acked,
        outcome.sent,
        unsent,
        extra={"acked": outcome.acked, "sent": outcome.sent},
    )
    # The daemon went away midway, as when it cannot be reached: no answer refused anything.
    return ExitStatus.UNREACHABLE


def _cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    credentials = load_credentials(
        config.broker.kind, os.environ, os.environ.get("CREDENTIALS_DIRECTORY")
    )
    with tempfile.TemporaryDirectory(prefix="tradingd-") as scratch:
        journal_path = _journal_path(config, scratch)
        return trio.run(
            _run, config, args.config, credentials, journal_path, args.once, args.settle_timeout
        )


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
    config_path: str | None,
    credentials: Credentials,
    journal_path: str,
    once: bool,
    settle_timeout: float,
) -> int:
    # Read the webhook's tokens first: a missing credential fails before any startup work.
    tokens = (
        await load_tokens(config.webhook, os.environ) if config.webhook.bind and not once else ()
    )
    with (
        trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals,
        Notifier.from_environ(os.environ) as notifier,
    ):
        out = AckWriter(stdout_stream())
        if once:
            async with open_daemon(config, credentials, journal_path=journal_path) as daemon:
                if daemon.venue is not None:
                    log.info("embedded paper venue at %s", daemon.venue.alpaca_url)
                log.info("ready: reading signals from stdin")
                output_open = await serve_stdin(daemon.intake, out)
                with trio.move_on_after(settle_timeout):
                    await daemon.activity.wait_idle()
                summary = await build_summary(daemon)
                if output_open:
                    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                        await out.write(summary)
                daemon.stop()
                done = summary.unresolved == 0 and output_open
                return ExitStatus.OK if done else ExitStatus.FAILED
        # The sources open before the startup gate passes (signals are held until it has),
        # and a stop signal while the gate still waits for the venue ends the wait.
        front = Front(notifier)
        stopped = trio.Event()
        async with trio.open_nursery() as running:
            with trio.CancelScope() as starting:

                async def serve() -> None:
                    await serve_until_stopped(
                        front, config, config_path, tokens, out, notifier, signals
                    )
                    stopped.set()
                    if front.daemon is None:
                        starting.cancel()

                running.start_soon(serve)
                async with open_daemon(
                    config, credentials, journal_path=journal_path, front=front
                ) as daemon:
                    if daemon.venue is not None:
                        log.info("embedded paper venue at %s", daemon.venue.alpaca_url)
                    await stopped.wait()
                    with trio.move_on_after(settle_timeout):
                        await daemon.activity.wait_idle()
                    await daemon.journal.flush()
                    unresolved = daemon.unresolved()
                    if unresolved:
                        log.warning("stopping with %d orders not final", unresolved)
                    daemon.stop()
            if starting.cancelled_caught:
                log.info("stopped before the startup gate passed")
        return ExitStatus.OK


def _cmd_sim(args: argparse.Namespace) -> int:
    from brokers.sim import ScenarioError, SimConfig, SimEndpoints, load_scenario, serve_sim
    from brokers.sim.config import with_venue_credentials

    scenario = None
    config = SimConfig(port=args.port, seed=args.seed)
    if args.scenario is not None:
        try:
            scenario = load_scenario(args.scenario)
        except ScenarioError as exc:
            sys.stderr.write(f"tradingd sim: {exc}\n")
            return ExitStatus.BAD_CONFIG
        config = scenario.sim_config(port=args.port)
    config = with_venue_credentials(config, os.environ)

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            endpoints: SimEndpoints = await nursery.start(serve_sim, config, scenario)
            ready = {
                "kind": "ready",
                "alpaca_url": endpoints.alpaca_url,
                "stream_url": endpoints.stream_url,
                "data_url": endpoints.data_url,
                "tradovate_url": endpoints.tradovate_url,
                "tradovate_ws_url": endpoints.tradovate_ws_url,
                "tradovate_md_url": endpoints.tradovate_md_url,
            }
            sys.stdout.write(msgspec.json.encode(ready).decode() + "\n")
            sys.stdout.flush()
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as stop_signals:
                async for _ in stop_signals:
                    break
            nursery.cancel_scope.cancel()

    try:
        trio.run(serve)
    except Exception as exc:
        failure = bind_failure(exc, f"{config.host}:{config.port}")
        if failure is None:
            raise
        raise failure from exc
    return ExitStatus.OK


if __name__ == "__main__":
    main()
