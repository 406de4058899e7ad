"""``POST /webhook/{token}``: TradingView alerts in, over hypercorn's trio worker.

The order of checks keeps a flood cheap and says nothing to a stranger: the token (401; 429
before the body once its source's budget of failed authentications is spent), the body size
(413), the signature when the token requires one (401), the JSON (400 with the reason), the
passphrase (401), and only then the token's own rate limit (429 with ``Retry-After``), then the
router. A request that fails authentication is charged to its source, never to the token, and
answered 429 once that source's budget is spent; an authenticated alert never is, even from that
same source (TradingView's servers send every user's alerts): a stranger who learned the URL
cannot keep the real strategy's alerts at 429. The answer comes once the signal is journaled
(200 accepted or duplicate, 422 rejected), trading happens afterwards, and no answer ever takes
longer than ``ANSWER_WITHIN`` seconds: TradingView gives up after 3.
"""

from __future__ import annotations

import ipaddress
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
    Throttle,
    WebhookToken,
    check_signature,
    find_token,
    parse_tokens,
    passphrase_matches,
    retry_after,
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


# A proxy's X-Forwarded-For longer than this names no address we would key a bucket by.
_MAX_SOURCE_CHARS = 64


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


def _too_many(reason: str, wait: float) -> Response:
    return JSONResponse(
        {"error": reason}, status_code=429, headers={"Retry-After": retry_after(wait)}
    )


@attrs.define
class AlertEndpoint:
    """The I/O shell: reads the clock and the body, asks the pure parts, talks to the router."""

    intake: Intake
    tokens: tuple[WebhookToken, ...]
    config: WebhookConfig
    limiter: RateLimiter  # per token, charged once authenticated
    failures: RateLimiter  # per source, charged by failed authentication
    on_ack: AckTimer | None = None  # told each alert's time from hand-over to ack
    on_answer: Callable[[int], None] | None = None  # told every answer's HTTP status
    on_throttle: Callable[[Throttle], None] | None = None  # told every 429 and why

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
        source = _source(request)
        token = find_token(self.tokens, request.path_params["token"])
        if token is None and self.failures.wait(source, trio.current_time()) > 0:
            # A guess at a token from an address out of budget: refused before its body.
            return self._out_of_budget(source)
        if token is None:
            # Never the token itself: a near miss of a real one is a secret too.
            log.warning("webhook: unknown token from %s", source, extra={"peer": source})
            return self._refuse(source, 401, "unauthorized")
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
            return self._refuse(source, 401, "unauthorized")
        try:
            alert = parse_alert(body)
        except BadAlert as exc:
            # Unreadable, so not authenticated either: the source pays, not the token.
            return self._refuse(source, 400, str(exc))
        if not passphrase_matches(token, alert.passphrase):
            log.warning("webhook %s: bad passphrase", token.name, extra={"token_name": token.name})
            return self._refuse(source, 401, "unauthorized")
        if not self.limiter.allow(token.name, trio.current_time()):
            wait = self.limiter.wait(token.name, trio.current_time())
            log.warning(
                "webhook %s: alert refused (429), over %g a minute with a burst of %d; "
                "retry after %s s",
                token.name,
                self.config.rate_per_minute,
                self.config.burst,
                retry_after(wait),
                extra={"token_name": token.name},
            )
            self._throttled(Throttle.RATE_LIMIT)
            return _too_many("rate limit exceeded", wait)
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

    def _out_of_budget(self, source: str) -> Response:
        # Logged when the source ran out (in _refuse), not per request: a flood must not
        # become a flood of log lines.
        self._throttled(Throttle.AUTH_FAILURES)
        wait = self.failures.wait(source, trio.current_time())
        return _too_many("too many failed requests from this address", wait)

    def _refuse(self, source: str, status: int, reason: str) -> Response:
        """A failed authentication: answered, and charged to its source's budget (429 once
        that is spent). Only a failure is ever refused for it: the address may be the
        strategy's own too (TradingView's servers send every user's alerts, a proxy may add
        no X-Forwarded-For), and its authenticated alerts must go on."""
        if self.failures.wait(source, trio.current_time()) > 0:
            return self._out_of_budget(source)
        if self.failures.charge(source, trio.current_time()):
            log.warning(
                "webhook: %s ran out of failed requests (%d at once, %g a minute): answered "
                "429 until its budget refills",
                source,
                self.config.auth_failures_burst,
                self.config.auth_failures_per_minute,
                extra={"peer": source},
            )
        return _error(status, reason)

    def _throttled(self, why: Throttle) -> None:
        if self.on_throttle is not None:
            self.on_throttle(why)

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
        on_throttle: Callable[[Throttle], None] | None = None,
    ) -> AlertEndpoint:
        limiter = RateLimiter(per_minute=config.rate_per_minute, burst=config.burst)
        failures = RateLimiter(
            per_minute=config.auth_failures_per_minute, burst=config.auth_failures_burst
        )
        return cls(intake, tokens, config, limiter, failures, on_ack, on_answer, on_throttle)

    def reload(self, tokens: tuple[WebhookToken, ...], config: WebhookConfig) -> None:
        """New tokens, limits and symbol maps for the next request (SIGHUP). The bind
        address stays: changing it takes a restart."""
        if config.bind != self.config.bind:
            log.warning("webhook: [webhook] bind changed; it takes effect at the next restart")
        self.tokens = tokens
        self.config = config
        self.limiter.per_minute = config.rate_per_minute
        self.limiter.burst = config.burst
        self.failures.per_minute = config.auth_failures_per_minute
        self.failures.burst = config.auth_failures_burst

    def _resolve_symbol(self, symbol: str) -> str:
        return resolve_alias(
            symbol,
            utc_now().date(),
            roll_offset_days=self.config.roll_offset_days,
            cycles=self.config.futures_cycles,
        )


def _source(request: Request) -> str:
    """The address a request came from, for its failed-authentication budget. Behind a
    reverse proxy on loopback every request comes from the proxy: there the address the
    proxy appended last to X-Forwarded-For is the sender's (what came before it, the sender
    may have written itself)."""
    peer = request.client.host if request.client else "?"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded is None or not _is_loopback(peer):
        return peer
    last = forwarded.rsplit(",", 1)[-1].strip()
    return last[:_MAX_SOURCE_CHARS] or peer


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
