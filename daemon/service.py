"""The long-running daemon's intake: every source, systemd's notifications, SIGHUP.

``serve_until_stopped`` opens the sources (stdin, the unix socket and TCP, or systemd's sockets,
and the webhook) before the startup gate passes (signals are held meanwhile, the control socket
answers ``status``), tells systemd ``READY=1`` once the gate has passed, pings the watchdog,
reloads the webhook's tokens and symbol maps on SIGHUP, and returns when SIGTERM or SIGINT
arrives, with intake stopped; the caller then lets in-flight orders settle.
"""

from __future__ import annotations

import logging
import os
import signal
from functools import partial
from typing import TYPE_CHECKING, Any

import trio

from brokers.errors import TradingError
from daemon.config import Config, load_config
from daemon.control.server import metrics_page, serve_listener
from daemon.listeners import open_configured_listeners
from daemon.metrics import Metrics, run_metrics
from daemon.metrics_http import serve_metrics
from daemon.notify import Notifier, run_watchdog, watchdog_seconds
from daemon.sources import AckWriter, serve_stdin
from daemon.webhook.server import AlertEndpoint, load_tokens, serve_webhook

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from daemon.startup.front import Front
    from daemon.supervisor import Daemon
    from daemon.webhook.auth import WebhookToken

log = logging.getLogger("tradingd")


async def serve_until_stopped(
    front: Front,
    config: Config,
    config_path: str | None,
    tokens: tuple[WebhookToken, ...],
    out: AckWriter,
    notifier: Notifier,
    signals: AsyncIterator[int],
) -> None:
    """Serve every source from before the startup gate passes (the control socket answers
    ``status`` at once, signals are held), ``READY=1`` once it has, until SIGTERM/SIGINT."""
    listeners = await open_configured_listeners(config.sources, config.control.socket, os.environ)
    metrics = Metrics()
    async with trio.open_nursery() as intake:
        for lst in listeners:
            intake.start_soon(
                partial(
                    serve_listener,
                    front,
                    lst.listener,
                    local=lst.local,
                    name=lst.name,
                    metrics=metrics,
                )
            )
        names = [lst.name for lst in listeners]
        webhook = None

        async def open_intake() -> None:
            nonlocal webhook
            held = await front.wait_open()
            # EOF on stdin closes that source only; the daemon runs until told to stop.
            if config.sources.stdin:
                intake.start_soon(serve_stdin, held, out, metrics.observe_signal_ack)
                names.insert(0, "stdin")
            if config.webhook.bind is not None:
                webhook = AlertEndpoint.create(
                    held,
                    tokens,
                    config.webhook,
                    on_ack=metrics.observe_signal_ack,
                    on_answer=metrics.count_webhook_answer,
                    on_throttle=metrics.count_webhook_throttle,
                )
                names.extend(await intake.start(serve_webhook, webhook, config.webhook.bind))
            await _announce_ready(
                intake, await front.wait_ready(), config, metrics, notifier, names
            )

        intake.start_soon(open_intake)
        async for signum in signals:
            if signum == signal.SIGHUP:
                notifier.notify("RELOADING=1", "STATUS=reloading")
                await _reload(config_path, webhook, front.daemon)
                if front.daemon is not None:
                    notifier.notify("READY=1", f"STATUS=ready: signals from {', '.join(names)}")
                continue
            name = signal.Signals(signum).name
            log.info("%s: stopping intake, letting orders settle", name, extra={"signal": name})
            break
        notifier.notify("STOPPING=1", "STATUS=stopping: letting orders settle")
        intake.cancel_scope.cancel()


async def _announce_ready(
    intake: trio.Nursery,
    daemon: Daemon,
    config: Config,
    metrics: Metrics,
    notifier: Notifier,
    names: list[str],
) -> None:
    """The gate has passed and every source listens: metrics, READY=1, the watchdog."""
    await intake.start(run_metrics, daemon.journal, metrics)
    if config.metrics.bind is not None:
        page = partial(metrics_page, daemon, metrics)
        await intake.start(serve_metrics, page, config.metrics.bind)
    log.info(
        "ready: reading signals from %s",
        ", ".join(names) or "nowhere",
        extra={"sources": names},
    )
    notifier.notify("READY=1", f"STATUS=ready: signals from {', '.join(names)}")
    interval = watchdog_seconds(os.environ, os.getpid())
    if interval is not None:
        intake.start_soon(
            run_watchdog,
            notifier,
            interval,
            partial(actor_backlogs, daemon),
            daemon.journal.flush,
        )


async def _reload(
    config_path: str | None, webhook: AlertEndpoint | None, daemon: Daemon | None
) -> None:
    """Re-read the config, the webhook's tokens and the risk limits; a bad file keeps
    every running setting."""
    if config_path is None:
        log.info("SIGHUP: no config file to reload")
        return
    try:
        config = await trio.to_thread.run_sync(load_config, config_path)
        tokens = None if webhook is None else await load_tokens(config.webhook, os.environ)
    except TradingError as exc:
        log.error("SIGHUP: reload refused, keeping the running settings: %s", exc)
        return
    if webhook is not None and tokens is not None:
        webhook.reload(tokens, config.webhook)
    if daemon is None:
        # Still starting: the actors will start from the config as it was first read.
        log.info("SIGHUP: reloaded the webhook's settings; risk limits need a restart now")
        return
    await daemon.reload_risk_limits(config.risk)
    log.info("SIGHUP: reloaded the risk limits, the webhook's tokens, limits and symbol maps")


def actor_backlogs(daemon: Daemon) -> dict[str, int]:
    """Work waiting in actor inboxes, for the watchdog's stall check."""
    inboxes: dict[str, trio.MemorySendChannel[Any]] = {
        "router": daemon.intake.router,
        "risk": daemon.risk_inbox,
        **daemon.inboxes,
    }
    return {name: inbox.statistics().current_buffer_used for name, inbox in inboxes.items()}
