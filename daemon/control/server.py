"""The control API: JSON lines on the daemon's local socket, next to signal intake.

A connection's first line decides what it is. ``{"kind":"control","command":…}`` asks one
question and gets one ``{"kind":"reply",…}`` line back; anything else starts a signal stream
(that line included) served exactly as stdin is. Only local (unix socket) connections may ask
control questions: a TCP source is for signals alone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
import trio

from actors.records import SignalCleared
from actors.signal_bounds import bounded_reason
from brokers.base import utc_now
from brokers.errors import TradingError
from daemon.journal.rows import read_orders
from daemon.journal.trades import read_closed_trips
from daemon.sources import MAX_LINE_BYTES, AckWriter, serve_ndjson

if TYPE_CHECKING:
    from daemon.metrics import Metrics
    from daemon.startup.front import Front
    from daemon.supervisor import Daemon

log = logging.getLogger("tradingd.control")

Command = Literal[
    "status",
    "positions",
    "orders",
    "audit",
    "halt",
    "resume",
    "metrics",
    "reconcile",
    "corrections",
    "approve",
    "trades",
    "failed_signals",
    "clear_signal",
]


class ControlRequest(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="control",
):
    command: Command
    symbol: Annotated[str, msgspec.Meta(max_length=32)] | None = None  # orders, audit, trades
    since: datetime | None = None  # audit, trades: at or after this (UTC) time
    until: datetime | None = None  # audit, trades: before this (UTC) time
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100
    flatten: bool = False  # halt: close every position too
    # approve: the correction's id (an SQLite integer: a larger one cannot be looked up)
    id: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)] | None = None
    # clear_signal: the quarantined signal's id
    signal_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None


class ControlReply(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="reply"):
    command: str | None
    ok: bool
    data: Any = None
    error: str | None = None


class _Kind(msgspec.Struct):
    kind: Any = None


_request_decoder = msgspec.json.Decoder(ControlRequest)
_kind_decoder = msgspec.json.Decoder(_Kind)
_encoder = msgspec.json.Encoder()


def is_control_line(line: bytes) -> bool:
    """Whether a connection's first line asks a control question (cheap: the tag only)."""
    try:
        return bool(_kind_decoder.decode(line).kind == "control")
    except (msgspec.DecodeError, RecursionError):
        # Its ``kind: Any`` descends into nesting a few thousand deep until Python's stack
        # runs out. Not a question: served as signals, whose parser says what is wrong with it.
        return False


def parse_request(line: bytes) -> ControlRequest | ControlReply:
    """The request, or the error reply that says why it is not one."""
    try:
        request = _request_decoder.decode(line)
    except msgspec.DecodeError as exc:
        return ControlReply(command=None, ok=False, error=bounded_reason(str(exc)))
    for name, value in (("since", request.since), ("until", request.until)):
        if value is None:
            continue
        if value.tzinfo is None:
            return ControlReply(
                command=request.command, ok=False, error=f"`{name}` needs a UTC offset"
            )
        try:
            value.astimezone(UTC)
        except OverflowError:
            # 0001-01-01T00:00+14:00 is a valid time with no UTC equivalent to compare to.
            return ControlReply(
                command=request.command, ok=False, error=f"`{name}` is out of range in UTC"
            )
    return request


async def answer(
    daemon: Daemon, request: ControlRequest, metrics: Metrics | None = None
) -> ControlReply:
    """Views of the running daemon as JSON-ready data, and the halt switch."""
    data: Any
    match request.command:
        case "status":
            data = await _status(daemon)
        case "positions":
            data = [
                msgspec.to_builtins(row)
                for row in (await daemon.journal.positions()).values()
                if row.qty or row.realized_pnl
            ]
        case "orders":
            # Every order is read (apart from the writer), then filtered, then the latest kept.
            rows = await daemon.journal.read_apart(read_orders)
            wanted = [
                r for r in rows if request.symbol is None or r.symbol == request.symbol.upper()
            ]
            data = [msgspec.to_builtins(r) for r in wanted[-request.limit :]]
        case "audit":
            symbol = request.symbol.upper() if request.symbol else None
            audit = await daemon.journal.audit(
                symbol=symbol, since=request.since, until=request.until, limit=request.limit
            )
            data = [msgspec.to_builtins(row) for row in audit]
        case "trades":
            data = await _trades(daemon, request)
        case "halt":
            # The operator's kill switch: logged loudly, as every change of trading state is.
            log.warning(
                "control: halt requested (flatten=%s)",
                request.flatten,
                extra={"command": "halt", "flatten": request.flatten},
            )
            await daemon.halt(flatten=request.flatten)
            data = {"halted": daemon.risk.halted, "flatten": request.flatten}
        case "resume":
            log.warning("control: resume requested", extra={"command": "resume"})
            await daemon.resume()
            data = {"halted": daemon.risk.halted}
        case "reconcile":
            data = msgspec.to_builtins(await daemon.reconcile())
        case "corrections":
            corrections = await daemon.journal.corrections(limit=request.limit)
            data = [
                msgspec.to_builtins(r)
                for r in corrections
                if request.symbol is None or r.symbol == request.symbol.upper()
            ]
        case "approve":
            if request.id is None:
                return ControlReply(command="approve", ok=False, error="`id` is required")
            log.warning("control: correction %d approved", request.id)
            result = await daemon.approve(request.id)
            if not result.ok:
                return ControlReply(
                    command="approve",
                    ok=False,
                    data=msgspec.to_builtins(result),
                    error=f"correction {request.id}: {result.status or 'not applied'}: "
                    f"{result.detail}",
                )
            data = msgspec.to_builtins(result)
        case "failed_signals":
            data = [msgspec.to_builtins(row) for row in await daemon.journal.failed_signals()]
        case "clear_signal":
            return await _clear_signal(daemon, request.signal_id)
        case "metrics":
            if metrics is None:
                return ControlReply(command="metrics", ok=False, error="metrics are not collected")
            data = await metrics_page(daemon, metrics)
    return ControlReply(command=request.command, ok=True, data=data)


async def _clear_signal(daemon: Daemon, signal_id: str | None) -> ControlReply:
    """Resolve one quarantined signal: never worked, its id still spent."""
    if signal_id is None:
        return ControlReply(command="clear_signal", ok=False, error="`signal_id` is required")
    failed = {row.signal_id: row for row in await daemon.journal.failed_signals(resolved=True)}
    row = failed.get(signal_id)
    if row is None:
        error = f"no failed signal {signal_id!r} (see `tradingd signals --failed`)"
        return ControlReply(command="clear_signal", ok=False, error=error)
    if row.resolved_at is not None:
        error = f"signal {signal_id!r} was cleared already, at {row.resolved_at.isoformat()}"
        return ControlReply(command="clear_signal", ok=False, error=error)
    await daemon.journal.commit(SignalCleared(at=utc_now(), signal_id=signal_id))
    log.warning("control: failed signal %s cleared", signal_id, extra={"signal_id": signal_id})
    data = {"signal_id": signal_id, "cleared": True, "id_spent": True}
    return ControlReply(command="clear_signal", ok=True, data=data)


async def _status(daemon: Daemon) -> dict[str, Any]:
    stats = daemon.journal.stats
    return {
        "ready": True,
        "halted": daemon.risk.halted,
        # Why the runaway breaker denies new entries (None: it has not tripped).
        "runaway_breaker": daemon.risk.runaway,
        "orders_paced": daemon.risk.parked,
        "stream_healthy": daemon.stream_healthy,
        "positions": {s: str(q) for s, q in daemon.positions().items()},
        "unresolved_orders": daemon.unresolved(),
        "symbols": len(daemon.executors),
        "buying_power": str(daemon.startup.account.buying_power),
        "startup_drifts": len(daemon.startup.drifts),
        "corrections_queued": len(await daemon.journal.corrections(status="queued")),
        "signals_failed": await daemon.journal.failed_signal_count(),
        "journal_transactions": stats.transactions,
        "journal_records": stats.records,
        "paper_venue": daemon.venue.alpaca_url if daemon.venue is not None else None,
    }


async def _trades(daemon: Daemon, request: ControlRequest) -> list[Any]:
    """Closed round trips (the latest ``limit``) that closed within [since, until)."""
    symbol = request.symbol.upper() if request.symbol else None
    trips = await daemon.journal.read_apart(
        partial(
            read_closed_trips,
            symbol=symbol,
            since=request.since,
            until=request.until,
            limit=request.limit,
        )
    )
    return [msgspec.to_builtins(trip) for trip in trips]


async def metrics_page(daemon: Daemon, metrics: Metrics) -> str:
    """The Prometheus text page: the counted records, and the daemon's state right now."""
    return metrics.render(await _gauges(daemon))


async def _gauges(daemon: Daemon) -> dict[str, float]:
    return {
        "tradingd_drifts": await daemon.journal.drift_count(),
        "tradingd_stream_healthy": float(daemon.stream_healthy),
        # The kill switch or the daily-loss latch: either holds new entries back.
        "tradingd_halted": float(daemon.risk.halted or daemon.risk.latched is not None),
        "tradingd_runaway_breaker": float(daemon.risk.runaway is not None),
        "tradingd_orders_paced": daemon.risk.parked,
        "tradingd_unresolved_orders": daemon.unresolved(),
        "tradingd_startup_drifts": len(daemon.startup.drifts),
        "tradingd_positions": len(daemon.positions()),
        "tradingd_signals_quarantined": await daemon.journal.failed_signal_count(),
        "tradingd_journal_transactions": daemon.journal.stats.transactions,
    }


async def _answer_or_refuse(
    daemon: Daemon, request: ControlRequest, metrics: Metrics | None
) -> ControlReply:
    """A question the daemon cannot answer (a journal read failing) is an error reply: an
    operator's query never takes the daemon down."""
    try:
        return await answer(daemon, request, metrics)
    except TradingError as exc:
        log.error(
            "control: %s failed: %s", request.command, exc, extra={"command": request.command}
        )
        return ControlReply(command=request.command, ok=False, error=str(exc))


class PrefixedStream(trio.abc.ReceiveStream):
    """A receive stream that first gives back bytes already read from it."""

    def __init__(self, prefix: bytes, stream: trio.abc.ReceiveStream) -> None:
        self._prefix = prefix
        self._stream = stream

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._prefix:
            size = len(self._prefix) if max_bytes is None else max_bytes
            chunk, self._prefix = self._prefix[:size], self._prefix[size:]
            return bytes(chunk)
        return bytes(await self._stream.receive_some(max_bytes))

    async def aclose(self) -> None:
        await self._stream.aclose()


async def _read_first_line(stream: trio.abc.ReceiveStream) -> bytes:
    """Bytes up to and including the first newline (or EOF, or the line limit)."""
    data = b""
    while b"\n" not in data and len(data) <= MAX_LINE_BYTES:
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        data += chunk
    return data


def answer_starting(front: Front, request: ControlRequest) -> ControlReply:
    """Before the startup gate has passed only ``status`` has an answer: what it waits for."""
    if request.command == "status":
        return ControlReply(command="status", ok=True, data=front.starting_status())
    return ControlReply(
        command=request.command, ok=False, error=f"not ready: {front.waiting_for()}"
    )


async def serve_connection(
    front: Front,
    stream: trio.SocketStream,
    *,
    local: bool,
    source: str,
    metrics: Metrics | None = None,
) -> None:
    """One client: a control question, or a stream of signals acked line by line; from
    before the startup gate has passed (the daemon's views wait for it, signals are held)."""
    async with stream:
        try:
            head = await _read_first_line(stream)
            first = head.split(b"\n", 1)[0]
            if is_control_line(first):
                reply: ControlRequest | ControlReply
                if not local:
                    reply = ControlReply(
                        command=None, ok=False, error="control only on the local socket"
                    )
                else:
                    reply = parse_request(first)
                if isinstance(reply, ControlRequest):
                    if front.daemon is None:
                        reply = answer_starting(front, reply)
                    else:
                        reply = await _answer_or_refuse(front.daemon, reply, metrics)
                await stream.send_all(_encoder.encode(reply) + b"\n")
                return
            # Signals wait for the journal to open; then they are held until the gate passes.
            await serve_ndjson(
                await front.wait_open(),
                PrefixedStream(head, stream),
                AckWriter(stream),
                source,
                None if metrics is None else metrics.observe_signal_ack,
            )
        except* (trio.BrokenResourceError, trio.ClosedResourceError) as group:
            # The client went away (serve_ndjson's reader and writer raise it in a group).
            # What it sent is journaled and traded as usual; only its acks are lost.
            log.info(
                "%s: client disconnected: %s", source, group.exceptions[0], extra={"source": source}
            )


async def serve_listener(
    front: Front,
    listener: trio.SocketListener,
    *,
    local: bool,
    name: str,
    metrics: Metrics | None = None,
) -> None:
    """Accept clients until cancelled, each in its own task (trio retries on EMFILE)."""

    async def handle(stream: trio.SocketStream) -> None:
        await serve_connection(front, stream, local=local, source=name, metrics=metrics)

    await trio.serve_listeners(handle, [listener])
