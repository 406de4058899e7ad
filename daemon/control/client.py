"""The CLI's side of the control socket: ask one question, or pipe signals through.

Answers print as aligned tables for people or, with ``--json``, as the reply's data for
scripts. Rendering is pure (rows in, text out).
"""

from __future__ import annotations

from contextlib import aclosing
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs
import msgspec
import trio

from daemon.control.server import ControlReply, ControlRequest
from daemon.sources import MAX_LINE_BYTES, split_lines

if TYPE_CHECKING:
    from collections.abc import Sequence

# The columns a person reads first; --json has every field.
COLUMNS: dict[str, tuple[str, ...]] = {
    "positions": ("symbol", "qty", "avg_entry_price", "realized_pnl", "updated_at"),
    "orders": (
        "updated_at",
        "client_order_id",
        "signal_id",
        "symbol",
        "side",
        "qty",
        "state",
        "filled_qty",
        "avg_fill_price",
        # A denied or rejected order's why; every other order's reason is in --json.
        "code",
        "detail",
    ),
    "audit": ("at", "method", "path", "symbol", "status", "latency_s", "error"),
    "corrections": (
        "id",
        "at",
        "symbol",
        "cause",
        "remedy",
        "journal_qty",
        "venue_qty",
        "target_qty",
        "notional",
        "status",
        "detail",
    ),
    "reconcile": (
        "symbol",
        "tradingd_qty",
        "venue_qty",
        "difference",
        "notional",
        "state",
        "cause",
        "drift_id",
        "correction_id",
        "correction_status",
    ),
    "failed_signals": ("at", "signal_id", "stage", "error_type", "error"),
    "trades": (
        "closed_at",
        "symbol",
        "side",
        "qty",
        "entry_avg",
        "exit_avg",
        "realized_pnl",
        "exit_reason",
        "opened_at",
    ),
}

_reply_decoder = msgspec.json.Decoder(ControlReply)


class ControlUnavailable(Exception):
    """The daemon's socket cannot be reached (not running, or another path)."""


async def _connect(path: str) -> trio.SocketStream:
    try:
        return await trio.open_unix_socket(path)
    except OSError as exc:
        raise ControlUnavailable(
            f"cannot reach tradingd at {path}: {exc.strerror or exc} (is it running?)"
        ) from exc


async def ask(path: str, request: ControlRequest) -> ControlReply:
    """One question, one reply line."""
    async with await _connect(path) as stream:
        await stream.send_all(msgspec.json.encode(request) + b"\n")
        async with aclosing(split_lines(stream, max_bytes=1 << 30)) as lines:
            async for line in lines:
                if isinstance(line, bytes):
                    return _reply_decoder.decode(line)
    raise ControlUnavailable(f"tradingd at {path} closed the connection without a reply")


@attrs.define
class LineTally:
    """Counts the lines a signal source acks, as ``daemon.sources`` reads them: every line
    but a blank one (an overlong one is acked too, rejected)."""

    lines: int = 0
    _length: int = 0
    _content: bool = False

    def feed(self, chunk: bytes | bytearray) -> None:
        *complete, rest = chunk.split(b"\n")
        for part in complete:
            self._add(part)
            self._end_line()
        self._add(rest)

    def finish(self) -> None:
        """EOF: a last line without its newline is a line too."""
        if self._length:
            self._end_line()

    def _add(self, part: bytes | bytearray) -> None:
        self._length += len(part)
        self._content = self._content or bool(part.strip())

    def _end_line(self) -> None:
        if self._content or self._length > MAX_LINE_BYTES:
            self.lines += 1
        self._length, self._content = 0, False


@attrs.frozen
class SendOutcome:
    """How far a ``tradingd send`` got before the daemon closed the connection."""

    sent: int  # lines handed to the daemon that each call for an ack
    acked: int  # ack lines the daemon wrote back (all of them copied to the output)
    input_read: bool  # every input line was sent (False: the daemon closed first)

    @property
    def complete(self) -> bool:
        return self.input_read and self.acked >= self.sent


async def send_signals(
    path: str, signals: trio.abc.ReceiveStream, acks: trio.abc.SendStream
) -> SendOutcome:
    """Copy ``signals`` to the daemon until EOF while copying its ack lines to ``acks``.

    The daemon may close its side before acking every line (it is stopping, or it died): the
    acks it did write are copied, and the outcome counts them against the lines sent.
    """
    tally = LineTally()
    input_read = False
    acked = 0
    async with await _connect(path) as stream:

        async def upload() -> None:
            nonlocal input_read
            try:
                while chunk := await signals.receive_some(65536):
                    await stream.send_all(chunk)
                    tally.feed(chunk)
                tally.finish()
                input_read = True
                # Half-close: the daemon sees EOF, writes the last acks, then closes its side.
                await stream.send_eof()
            except trio.BrokenResourceError:
                return  # the daemon closed its side: the acks it wrote are all there are

        async with trio.open_nursery() as nursery:
            nursery.start_soon(upload)
            pending = b""
            while chunk := await _receive_or_reset(stream):
                pending += chunk
                end = pending.rfind(b"\n") + 1
                if end:
                    # Whole lines only: a torn ack would be no ack to a reader of the output.
                    await acks.send_all(pending[:end])
                    acked += pending.count(b"\n", 0, end)
                    pending = pending[end:]
            # The daemon is gone: nothing more it could ack is worth reading from the input.
            nursery.cancel_scope.cancel()
    return SendOutcome(sent=tally.lines, acked=acked, input_read=input_read)


async def _receive_or_reset(stream: trio.SocketStream) -> bytes:
    """The next chunk; b"" at EOF, and when the daemon closed with our lines unread (a reset)."""
    try:
        return await stream.receive_some(65536)
    except trio.BrokenResourceError:
        return b""


# A table shows at most this many decimal places (an average price can carry 28 digits);
# --json keeps every digit.
TABLE_DECIMALS = 9


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, str) and (rounded := _rounded_decimal(value)) is not None:
        return rounded
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    return str(value)


def _rounded_decimal(text: str) -> str | None:
    """A decimal string with too many places, rounded for display; None for anything else."""
    if "." not in text or len(text.rsplit(".", 1)[1]) <= TABLE_DECIMALS:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    shown = f"{number.quantize(Decimal(1).scaleb(-TABLE_DECIMALS)):f}".rstrip("0").rstrip(".")
    return "0" if shown == "-0" else shown


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Aligned columns under a header; numbers right-aligned, text left-aligned."""
    if not rows:
        return "(none)"
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    numeric = [all(_is_number(r[i]) for r in cells) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line([c.upper() for c in columns]), *(line(r) for r in cells)])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == "-"
    return True


def render_status(status: dict[str, Any]) -> str:
    """One ``key  value`` line per field."""
    width = max((len(k) for k in status), default=0)
    lines = []
    for key, value in status.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
        lines.append(f"{key.ljust(width)}  {value}")
    return "\n".join(lines)


def render_reconciliation(report: dict[str, Any]) -> str:
    """The comparison table, then each difference's explanation on its own line."""
    head = f"reconciliation at {_cell(report['at'])} (mode {report['mode']})"
    if report.get("error"):
        return f"{head}: venue unavailable: {report['error']}"
    rows = report["rows"]
    notes = [f"{r['symbol']}: {r['detail']}" for r in rows if r.get("detail")]
    parts = [head, render_table(rows, COLUMNS["reconcile"]), *notes]
    if report.get("orders"):
        parts += ["", "orders that differ:", render_table(report["orders"], _ORDER_COLUMNS)]
    return "\n".join(parts)


_ORDER_COLUMNS = (
    "client_order_id",
    "symbol",
    "tradingd_state",
    "venue_status",
    "tradingd_filled",
    "venue_filled",
    "note",
)


def render_reply(reply: ControlReply) -> str:
    if reply.command in ("status", "halt", "resume", "approve", "clear_signal"):
        return render_status(reply.data)
    if reply.command == "reconcile":
        return render_reconciliation(reply.data)
    return render_table(reply.data, COLUMNS[reply.command or ""])
