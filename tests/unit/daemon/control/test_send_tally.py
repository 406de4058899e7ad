"""`tradingd send` counts the lines the daemon will ack exactly as the daemon reads them."""

from __future__ import annotations

from itertools import pairwise

import trio
from hypothesis import given
from hypothesis import strategies as st

from daemon.control.client import LineTally, SendOutcome
from daemon.sources import MAX_LINE_BYTES, LineTooLong, split_lines
from tests.strategies import send_lines


class ChunkStream(trio.abc.ReceiveStream):
    """Bytes arriving in the given chunks, then EOF."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = list(chunks)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""

    async def aclose(self) -> None:
        self._chunks.clear()


def acks_the_daemon_writes(chunks: list[bytes]) -> int:
    """What ``serve_ndjson`` acks: every overlong line and every line that is not blank."""

    async def count() -> int:
        acked = 0
        async for line in split_lines(ChunkStream(chunks)):
            acked += isinstance(line, LineTooLong) or bool(line.strip())
        return acked

    return trio.run(count)


def tally(chunks: list[bytes]) -> int:
    counted = LineTally()
    for chunk in chunks:
        counted.feed(chunk)
    counted.finish()
    return counted.lines


def test_blank_lines_are_not_counted_and_a_last_line_without_newline_is() -> None:
    """Blank lines get no ack; an unterminated last line does."""
    assert tally([b'\n  \n{"id":"a"}\n\t\n{"id":', b'"b"}']) == 2


def test_an_overlong_line_counts_once_however_it_arrives() -> None:
    """The daemon acks an overlong line once (rejected), in one chunk or many."""
    long_line = b"x" * (MAX_LINE_BYTES + 10)
    assert tally([long_line + b"\nok\n"]) == 2
    assert tally([long_line[:100], long_line[100:], b"\nok"]) == 2


@given(
    st.lists(send_lines, max_size=12), st.booleans(), st.lists(st.integers(1, 20_000), max_size=6)
)
def test_the_tally_equals_the_acks_the_daemon_writes(
    body: list[bytes], last_newline: bool, cuts: list[int]
) -> None:
    """Any lines, cut into any chunks: as many counted as the daemon's reader would ack."""
    data = b"\n".join(body) + (b"\n" if last_newline and body else b"")
    points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in pairwise(points) if b > a]
    assert tally(chunks) == acks_the_daemon_writes(chunks)


def test_a_send_is_complete_only_with_its_input_read_and_every_line_acked() -> None:
    """Fewer acks than lines, or input left unsent: not complete."""
    assert SendOutcome(sent=3, acked=3, input_read=True).complete
    assert not SendOutcome(sent=3, acked=2, input_read=True).complete
    assert not SendOutcome(sent=3, acked=3, input_read=False).complete
