"""The TOML config, read into frozen Structs that refuse unknown fields.

A typo is an error naming the file, the section and the field, never a silently ignored
setting. No file at all means every default: the embedded paper venue, stdin as a source.
Secrets never live here: they come from the environment or systemd credentials
(``daemon.credentials``). Relative paths (``[journal] path``, ``[control] socket``) are
relative to the config file's directory, so a unit's working directory does not matter.
"""

from __future__ import annotations

import os
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec

from actors.risk import RiskLimits
from brokers.errors import TradingError


class ConfigError(TradingError):
    """The config (or the credentials) cannot be used; the message says where and why."""


class Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every config section."""


BrokerKind = Literal["paper", "alpaca", "tradovate"]
# Alpaca's limit per API key; the paper venue speaks Alpaca's protocol and shares it.
ALPACA_REQUESTS_PER_MINUTE = 200


class BrokerConfig(Section, frozen=True, kw_only=True):
    """Which venue, and where. ``paper`` without URLs starts the embedded paper venue."""

    kind: BrokerKind = "paper"
    base_url: str | None = None  # REST
    stream_url: str | None = None  # order-update stream
    data_url: str | None = None  # market data
    # The request budget every REST call shares (``brokers.budget``): Alpaca's published
    # limit, which the paper venue imitates. "unlimited" switches it off (benchmarks).
    requests_per_minute: Annotated[int, msgspec.Meta(ge=1)] | Literal["unlimited"] = (
        ALPACA_REQUESTS_PER_MINUTE
    )


class JournalConfig(Section, frozen=True, kw_only=True):
    path: str | None = None  # None: the daemon picks


class ControlConfig(Section, frozen=True, kw_only=True):
    socket: str | None = None  # the control API's unix socket; None: the daemon picks


# The [risk] section is RiskGuard's limits themselves (defaults documented there).
RiskConfig = RiskLimits


Seconds = Annotated[float, msgspec.Meta(gt=0)]


class SourcesConfig(Section, frozen=True, kw_only=True):
    stdin: bool = True  # read signals from standard input
    socket: bool = True  # signals (and the control API) on the unix socket, [control] socket
    tcp: str | None = None  # "127.0.0.1:7878": signals over TCP; no control API there
    # A signal held while the startup gate waits for the venue, older than this once the gate
    # passes, is finished "expired" instead of traded: its moment has gone.
    max_hold: Seconds = 60.0


class MonitorConfig(Section, frozen=True, kw_only=True):
    """OrderMonitor's timers (``actors.monitor.task.MonitorTimers``), in seconds."""

    first_answer: Seconds = 5.0  # no word from the venue this long after sending: look it up
    recheck: Seconds = 60.0  # a working order quiet this long: look it up
    recheck_max: Seconds = 900.0  # each quiet lookup doubles the wait, up to this
    unhealthy_poll: Seconds = 2.0  # stream down: poll in-flight orders this often
    # Look-ups' share of the [broker] request budget (every look-up of one order, whoever
    # asks), and the pace of the monitor's own.
    lookups_per_second: Annotated[float, msgspec.Meta(gt=0)] = 2.5
    first_connect_grace: Annotated[float, msgspec.Meta(ge=0)] = 5.0  # startup waits for the stream


class WebhookConfig(Section, frozen=True, kw_only=True):
    """TradingView alerts over HTTP (``daemon.webhook.server``); off unless ``bind`` is set."""

    bind: str | None = None  # "127.0.0.1:8080", behind a TLS-terminating reverse proxy
    tokens_file: str | None = None  # None: $CREDENTIALS_DIRECTORY/webhook-tokens
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=1 << 20)] = 16 * 1024
    # Per token, charged only once the passphrase (and signature) checked out: a guard
    # against a runaway sender, sized well above a busy strategy (30 a second, 100 at once).
    rate_per_minute: Annotated[float, msgspec.Meta(gt=0)] = 1800.0
    burst: Annotated[int, msgspec.Meta(ge=1)] = 100
    # Per source address, charged by failed authentication only (unknown token, bad
    # signature, unreadable body, wrong passphrase): a source past it is answered 429 before
    # its body is read, while authenticated alerts from other sources never wait for it.
    auth_failures_per_minute: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    auth_failures_burst: Annotated[int, msgspec.Meta(ge=1)] = 20
    hmac_tolerance: Seconds = 30.0  # signed requests: allowed clock difference
    roll_offset_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 8  # MNQ1!: roll this early
    futures_cycles: dict[str, Annotated[str, msgspec.Meta(pattern="^[FGHJKMNQUVXZ]+$")]] = (
        msgspec.field(default_factory=dict)  # root -> month codes; default quarterly HMUZ
    )


class ReconcileConfig(Section, frozen=True, kw_only=True):
    """Drift checks and corrections (``actors.reconciler.task``; README "Reconciliation")."""

    mode: Literal["observe", "approve", "auto"] = "observe"
    auto_limit: Decimal = Decimal(1000)  # auto: corrections up to this notional, at once
    tolerance: Decimal = Decimal(100)  # a difference worth this little is not drift
    interval: Seconds = 60.0  # a drift check at least this often
    after_final: Seconds = 2.0  # and this long after orders reach a final state

    def __post_init__(self) -> None:
        # msgspec turns the ValueError into a ValidationError naming the field.
        for name in ("auto_limit", "tolerance"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise ValueError(f"`{name}` must be a number >= 0, got {value}")


class MetricsConfig(Section, frozen=True, kw_only=True):
    """``GET /metrics`` over HTTP for a Prometheus scrape (``daemon.metrics_http``); off
    unless ``bind`` is set. ``tradingd metrics`` answers on the control socket regardless."""

    bind: str | None = None  # "127.0.0.1:9464"


class ExecutorConfig(Section, frozen=True, kw_only=True):
    """How each symbol's executor protects positions and orders its signals."""

    # Exits the venue refused: "flatten" closes the position at market; "halt_symbol" keeps
    # it and refuses new entries in the symbol (a close still goes) until a restart.
    protection_failure: Literal["flatten", "halt_symbol"] = "flatten"
    # "native": take_profit / stop_loss go out as the venue's bracket. "emulated", for a venue
    # without brackets: the entry goes alone; a take-profit limit follows its fills, and the
    # stop is held by tradingd and sent at market when the price reaches it.
    brackets: Literal["native", "emulated"] = "native"
    # A signal arriving while an earlier one is queued: "wait" keeps both, in order;
    # "supersede" drops the queued one (journaled as superseded) for the newer.
    queued: Literal["wait", "supersede"] = "wait"


class Config(Section, frozen=True, kw_only=True):
    broker: BrokerConfig = msgspec.field(default_factory=BrokerConfig)
    journal: JournalConfig = msgspec.field(default_factory=JournalConfig)
    control: ControlConfig = msgspec.field(default_factory=ControlConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    sources: SourcesConfig = msgspec.field(default_factory=SourcesConfig)
    monitor: MonitorConfig = msgspec.field(default_factory=MonitorConfig)
    webhook: WebhookConfig = msgspec.field(default_factory=WebhookConfig)
    reconcile: ReconcileConfig = msgspec.field(default_factory=ReconcileConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    executor: ExecutorConfig = msgspec.field(default_factory=ExecutorConfig)


_URL_FIELDS = ("base_url", "stream_url", "data_url")
_URL_SCHEMES = {
    "base_url": ("http", "https"),
    "stream_url": ("ws", "wss", "http", "https"),
    "data_url": ("ws", "wss", "http", "https"),
}
# msgspec ends a validation message with " - at `$.section.field`".
_LOCATION = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<where>[^`]*)`)?$", re.DOTALL)


def load_config(path: str | None) -> Config:
    """Read the config at ``path``; None gives the defaults (the embedded paper venue)."""
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {_reason(exc)}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(raw, source=path)


def parse_config(raw: dict[str, Any], *, source: str) -> Config:
    """Validate decoded TOML; ``source`` names the file in errors."""
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_locate(str(exc))}") from exc
    _check_broker(config.broker, source)
    base = Path(source).absolute().parent
    return msgspec.structs.replace(
        config,
        journal=JournalConfig(path=_resolve(config.journal.path, base)),
        control=ControlConfig(socket=_resolve(config.control.socket, base)),
        webhook=msgspec.structs.replace(
            config.webhook, tokens_file=_resolve(config.webhook.tokens_file, base)
        ),
    )


def _locate(message: str) -> str:
    """Turn msgspec's ``... - at `$.broker.kind``` into ``[broker] kind: ...``."""
    match = _LOCATION.match(message)
    assert match is not None  # the pattern matches any text
    what, where = match["what"], match["where"] or ""
    parts = [p for p in where.split(".") if p]
    unknown = re.match(r"Object contains unknown field `([^`]*)`", what)
    if unknown:
        parts.append(unknown[1])
        what = "unknown field" if len(parts) > 1 else "unknown section"
    if not parts:
        return what
    section, fields = parts[0], parts[1:]
    if not fields:
        return f"[{section}]: {what}"
    return f"[{section}] {'.'.join(fields)}: {what}"


def _check_broker(broker: BrokerConfig, source: str) -> None:
    if broker.kind == "tradovate":
        # Until the Tradovate adapter exists nothing may speak to a venue for this kind:
        # the Alpaca adapter would send the Tradovate login as Alpaca keys.
        raise ConfigError(
            f'{source}: [broker] kind = "tradovate" is not supported yet (no Tradovate adapter);'
            ' use "alpaca" or "paper"'
        )
    for name in _URL_FIELDS:
        url = getattr(broker, name)
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.scheme not in _URL_SCHEMES[name] or not parts.netloc:
            schemes = " or ".join(f"{s}://" for s in _URL_SCHEMES[name])
            raise ConfigError(f"{source}: [broker] {name}: expected a {schemes} URL, got {url!r}")
    missing = [name for name in _URL_FIELDS if getattr(broker, name) is None]
    if broker.kind == "alpaca" and missing:
        raise ConfigError(
            f'{source}: [broker] {", ".join(missing)}: required for kind = "alpaca" '
            '(e.g. base_url = "https://paper-api.alpaca.markets")'
        )
    if broker.kind == "paper" and broker.base_url is not None and missing:
        raise ConfigError(
            f"{source}: [broker] {', '.join(missing)}: required when base_url names an "
            "external paper venue (leave all three out for the embedded one)"
        )


def _resolve(value: str | None, base: Path) -> str | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return os.fspath(path if path.is_absolute() else base / path)


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
