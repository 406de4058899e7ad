"""The NDJSON intake's line splitting and signal parsing under arbitrary input."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import trio
from hypothesis import example, given
from hypothesis import strategies as st

from actors.messages import BadSignal, parse_signal
from daemon.sources import LineTooLong, split_lines

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX = 8


class ChunkStream(trio.abc.ReceiveStream):
    """Gives back the given chunks one receive at a time, then EOF."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = list(chunks)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.lowlevel.checkpoint()
        return self._chunks.pop(0) if self._chunks else b""

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()


def expected_lines(data: bytes) -> list[bytes | str]:
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    return ["too long" if len(p) > MAX else p for p in pieces]


def split_all(chunks: list[bytes]) -> list[bytes | str]:
    async def collect() -> list[bytes | str]:
        return [
            "too long" if isinstance(line, LineTooLong) else line
            async for line in split_lines(ChunkStream(chunks), max_bytes=MAX)
        ]

    return trio.run(collect)


@given(
    chunks=st.lists(
        st.binary(min_size=1, max_size=20) | st.sampled_from([b"\n", b"12345678", b"123456789\n"]),
        max_size=12,
    )
)
def test_lines_are_the_same_however_the_bytes_are_chunked(chunks: list[bytes]) -> None:
    """One item per line whatever the chunking; an overlong line is one LineTooLong."""
    assert split_all(chunks) == expected_lines(b"".join(chunks))


@given(line=st.binary(max_size=200))
# Invalid UTF-8 inside a JSON string, in a line of the wrong shape and in a signal's id.
@example(line=b'"\x80"')
@example(line=b'{"id":"\x80","symbol":"AAPL","action":"buy","qty":1}')
def test_any_line_is_a_signal_or_a_bad_signal(line: bytes) -> None:
    """Arbitrary bytes never raise anything but BadSignal (which becomes a rejected ack)."""
    with contextlib.suppress(BadSignal):
        parse_signal(line)
