"""Signal sources that speak NDJSON: one JSON object per line in, one ack line per line out.

Lines are read ahead and handed to the router at once, while acks are written strictly in
input order: a slow decision for one line never stalls reading, and a reader of the output
can pair acks with lines by position as well as by id.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING

import msgspec
import trio

from actors.messages import Ack

if TYPE_CHECKING:
    from actors.router import Intake

log = logging.getLogger("tradingd.sources")

# The inbound limit of DESIGN.md: a longer line is rejected, never buffered without bound.
MAX_LINE_BYTES = 16 * 1024
# Lines in flight per source before reading pauses (back-pressure, visible and bounded).
READ_AHEAD = 64

_encoder = msgspec.json.Encoder()


# Told how long a signal took from being read to being acked, in seconds.
AckTimer = Callable[[float], None]


class LineTooLong(ValueError):
    pass


async def split_lines(
    stream: trio.abc.ReceiveStream, max_bytes: int = MAX_LINE_BYTES
) -> AsyncGenerator[bytes | LineTooLong, None]:
    """Complete lines without their newline; an overlong line yields LineTooLong once."""
    buffer = bytearray()
    skipping = False
    while True:
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if skipping:
                skipping = False
                continue
            if len(line) > max_bytes:
                yield LineTooLong(f"line longer than {max_bytes} bytes")
                continue
            yield line
        if len(buffer) > max_bytes and not skipping:
            yield LineTooLong(f"line longer than {max_bytes} bytes")
            buffer.clear()
            skipping = True
        elif skipping:
            buffer.clear()
    if buffer and not skipping:
        yield bytes(buffer)


class AckWriter:
    """Writes ack (and summary) lines to one output stream, one whole line at a time."""

    def __init__(self, stream: trio.abc.SendStream) -> None:
        self._stream = stream
        self._lock = trio.Lock()

    async def write(self, message: msgspec.Struct) -> None:
        async with self._lock:
            await self._stream.send_all(_encoder.encode(message) + b"\n")


async def serve_ndjson(
    intake: Intake,
    stream: trio.abc.ReceiveStream,
    out: AckWriter,
    source: str,
    on_ack: AckTimer | None = None,
) -> None:
    """Feed every line of ``stream`` to the router and write its ack; returns at EOF.

    ``on_ack`` gets each signal's time from read to ack written (in order, as the client
    sees it: an ack waits for the acks of the lines before it)."""
    pending_send, pending_recv = trio.open_memory_channel[
        tuple[trio.MemoryReceiveChannel[Ack], float | None]
    ](READ_AHEAD)

    async def read() -> None:
        async with pending_send, aclosing(split_lines(stream)) as lines:
            async for line in lines:
                reply, answer = trio.open_memory_channel[Ack](1)
                read_at = None
                if isinstance(line, LineTooLong):
                    reply.send_nowait(Ack(id=None, status="rejected", reason=str(line)))
                elif not line.strip():
                    continue  # blank lines are not signals: nothing to ack
                else:
                    read_at = trio.current_time()
                    await intake.send(line, source, reply)
                await pending_send.send((answer, read_at))

    async def write() -> None:
        async with pending_recv:
            async for answer, read_at in pending_recv:
                async with answer:
                    await out.write(await answer.receive())
                if on_ack is not None and read_at is not None:
                    on_ack(trio.current_time() - read_at)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read)
        nursery.start_soon(write)


async def serve_stdin(intake: Intake, out: AckWriter, on_ack: AckTimer | None = None) -> bool:
    """The stdin source until EOF; False if whoever read its acks went away first.

    A closed stdout (the reader of a pipe exited) closes this source only: what was read
    is journaled and traded as usual, and the daemon runs on.
    """
    gone = False
    try:
        await serve_ndjson(intake, stdin_stream(), out, "stdin", on_ack)
    except* (trio.BrokenResourceError, trio.ClosedResourceError) as group:
        log.warning("stdin source closed: its output is gone (%s)", group.exceptions[0])
        gone = True
    return not gone


def stdin_stream() -> trio.lowlevel.FdStream:
    """Standard input as a trio stream (a duplicate fd: closing it leaves fd 0 alone)."""
    return trio.lowlevel.FdStream(os.dup(0))


def stdout_stream() -> trio.lowlevel.FdStream:
    return trio.lowlevel.FdStream(os.dup(1))
