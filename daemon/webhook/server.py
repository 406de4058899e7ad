"""``POST /webhook/{token}``: TradingView alerts in, over hypercorn's trio worker.

The order of checks keeps a flood cheap and says nothing to a stranger: the token (401), the
rate limit (429), the body size (413), the signature when the token requires one (401), the
JSON (400 with the reason), the passphrase (401), then the router. The answer comes once the
signal is journaled (200 accepted or duplicate, 422 rejected), trading happens afterwards,
and no answer ever takes longer than ``ANSWER_WITHIN`` seconds: TradingView gives up after 3.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import attrs
import msgspec
import trio
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.messages import Ack
from brokers.base import utc_now
from daemon.config import ConfigError, WebhookConfig
from daemon.http_serving import serve_app
from daemon.webhook.alerts import BadAlert, alert_to_signal, parse_alert
from daemon.webhook.auth import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RateLimiter,
    WebhookToken,
    check_signature,
    find_token,
    parse_tokens,
    passphrase_matches,
)
from daemon.webhook.futures import resolve_alias

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from starlette.requests import Request

    from actors.router import Intake
    from daemon.sources import AckTimer

log = logging.getLogger("tradingd.webhook")

ANSWER_WITHIN = 2.5  # seconds; TradingView's own limit is 3
TOKENS_CREDENTIAL = "webhook-tokens"


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


@attrs.define
class AlertEndpoint:
    """The I/O shell: reads the clock and the body, asks the pure parts, talks to the router."""

    intake: Intake
    tokens: tuple[WebhookToken, ...]
    config: WebhookConfig
    limiter: RateLimiter
    on_ack: AckTimer | None = None  # told each alert's time from hand-over to ack
    on_answer: Callable[[int], None] | None = None  # told every answer's HTTP status

    async def receive(self, request: Request) -> Response:
        response = await self._answer_in_time(request)
        if self.on_answer is not None:
            self.on_answer(response.status_code)
        return response

    async def _answer_in_time(self, request: Request) -> Response:
        handed_over = trio.Event()
        with trio.move_on_after(ANSWER_WITHIN):
            return await self._answer(request, handed_over)
        if handed_over.is_set():
            # The router has the signal; a retry of this alert will be acked a duplicate.
            return JSONResponse({"status": "pending"}, status_code=202)
        return _error(503, "busy: the signal was not taken, retry")

    async def _answer(self, request: Request, handed_over: trio.Event) -> Response:
        token = find_token(self.tokens, request.path_params["token"])
        if token is None:
            # Never the token itself: a near miss of a real one is a secret too.
            log.warning(
                "webhook: unknown token from %s", _peer(request), extra={"peer": _peer(request)}
            )
            return _error(401, "unauthorized")
        if not self.limiter.allow(token.name, trio.current_time()):
            return _error(429, "rate limit exceeded")
        body = await self._body(request)
        if body is None:
            return _error(413, f"body larger than {self.config.max_body_bytes} bytes")
        refusal = check_signature(
            token,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            utc_now().timestamp(),
            self.config.hmac_tolerance,
        )
        if refusal is not None:
            log.warning("webhook %s: %s", token.name, refusal, extra={"token_name": token.name})
            return _error(401, "unauthorized")
        try:
            alert = parse_alert(body)
        except BadAlert as exc:
            return _error(400, str(exc))
        if not passphrase_matches(token, alert.passphrase):
            log.warning("webhook %s: bad passphrase", token.name, extra={"token_name": token.name})
            return _error(401, "unauthorized")
        try:
            line = alert_to_signal(alert, token.name, utc_now(), self._resolve_symbol)
        except BadAlert as exc:
            return _error(400, str(exc))
        reply, answer = trio.open_memory_channel[Ack](1)
        async with answer:
            sent_at = trio.current_time()
            await self.intake.send(line, f"webhook:{token.name}", reply)
            handed_over.set()
            ack = await answer.receive()
        if self.on_ack is not None:
            self.on_ack(trio.current_time() - sent_at)
        status = 422 if ack.status == "rejected" else 200
        return Response(msgspec.json.encode(ack), status, media_type="application/json")

    async def _body(self, request: Request) -> bytes | None:
        """The body, or None once it is longer than allowed (never buffered beyond that)."""
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return None
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return None
        return bytes(body)

    @classmethod
    def create(
        cls,
        intake: Intake,
        tokens: tuple[WebhookToken, ...],
        config: WebhookConfig,
        *,
        on_ack: AckTimer | None = None,
        on_answer: Callable[[int], None] | None = None,
    ) -> AlertEndpoint:
        limiter = RateLimiter(per_minute=config.rate_per_minute, burst=config.burst)
        return cls(intake, tokens, config, limiter, on_ack, on_answer)

    def reload(self, tokens: tuple[WebhookToken, ...], config: WebhookConfig) -> None:
        """New tokens, limits and symbol maps for the next request (SIGHUP). The bind
        address stays: changing it takes a restart."""
        if config.bind != self.config.bind:
            log.warning("webhook: [webhook] bind changed; it takes effect at the next restart")
        self.tokens = tokens
        self.config = config
        self.limiter.per_minute = config.rate_per_minute
        self.limiter.burst = config.burst

    def _resolve_symbol(self, symbol: str) -> str:
        return resolve_alias(
            symbol,
            utc_now().date(),
            roll_offset_days=self.config.roll_offset_days,
            cycles=self.config.futures_cycles,
        )


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"


def build_webhook_app(endpoint: AlertEndpoint) -> Starlette:
    return Starlette(routes=[Route("/webhook/{token}", endpoint.receive, methods=["POST"])])


async def load_tokens(
    config: WebhookConfig, environ: Mapping[str, str]
) -> tuple[WebhookToken, ...]:
    """The tokens file: ``[webhook] tokens_file``, else the systemd credential."""
    path = config.tokens_file
    if path is None and (credentials := environ.get("CREDENTIALS_DIRECTORY")):
        path = os.path.join(credentials, TOKENS_CREDENTIAL)
    if path is None:
        raise ConfigError(
            f"[webhook] needs tokens: set tokens_file or a {TOKENS_CREDENTIAL!r} credential"
        )
    try:
        data = await trio.Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read webhook tokens: {exc.strerror or exc}") from exc
    tokens = parse_tokens(data, path)
    if not tokens:
        raise ConfigError(f"{path}: no webhook tokens")
    return tokens


async def serve_webhook(
    endpoint: AlertEndpoint,
    bind: str,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; task_status.started(bound URLs) once listening."""
    app = build_webhook_app(endpoint)
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(serve_app, app, bind, "tradingd.webhook.http")
        log.info("webhook listening on %s", ", ".join(binds))
        task_status.started(binds)
