from __future__ import annotations

import trio
import trio.testing

from daemon.sources import LineTooLong, split_lines


async def collect(chunks: list[bytes], max_bytes: int = 16) -> list[bytes | str]:
    send, recv = trio.testing.memory_stream_one_way_pair()
    out: list[bytes | str] = []

    async def feed() -> None:
        for chunk in chunks:
            await send.send_all(chunk)
        await send.aclose()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed)
        async for line in split_lines(recv, max_bytes):
            out.append("too long" if isinstance(line, LineTooLong) else line)
    return out


async def test_lines_split_across_chunks_and_last_line_without_newline() -> None:
    """Lines are reassembled across reads; a final unterminated line still counts."""
    assert await collect([b'{"a"', b":1}\n{}\n", b"tail"]) == [b'{"a":1}', b"{}", b"tail"]


async def test_overlong_line_is_reported_once_and_skipped() -> None:
    """A line over the limit yields one rejection; the next line is read normally."""
    lines = await collect([b"x" * 10, b"y" * 10, b"z" * 10 + b"\nok\n"])
    assert lines == ["too long", b"ok"]
