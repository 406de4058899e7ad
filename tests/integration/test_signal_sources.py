"""The journal says who sent each trade: an accepted signal's row names the source it came in on
(stdin, the unix socket, TCP, the webhook), through a real ``tradingd run`` on the paper venue."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import msgspec
import trio

from tests.integration.input_daemon import PASSPHRASE, InputDaemon, input_daemon


def _buy(signal_id: str, qty: int) -> bytes:
    # Each source a quantity of its own: RiskGuard refuses the same order twice in a row.
    return msgspec.json.encode({"id": signal_id, "symbol": "AAPL", "action": "buy", "qty": qty})


async def _send_one_on_each_source(daemon: InputDaemon) -> None:
    """One buy per source, each acked accepted (so its row is durable by now)."""
    acks = [
        *await daemon.stdin_acks([_buy("from-stdin", 1)]),
        *await daemon.socket_acks([_buy("from-socket", 2)]),
        *await daemon.tcp_acks([_buy("from-tcp", 3)]),
    ]
    alert = {
        "passphrase": PASSPHRASE,
        "id": "from-webhook",
        "ticker": "AAPL",
        "action": "buy",
        "contracts": 4,
    }
    [answer] = await daemon.post_alerts([msgspec.json.encode(alert)])
    acks.append(answer.json())
    assert [(ack["id"], ack["status"]) for ack in acks] == [
        ("from-stdin", "accepted"),
        ("from-socket", "accepted"),
        ("from-tcp", "accepted"),
        ("from-webhook", "accepted"),
    ], acks


def _accepted_rows(journal: Path) -> dict[str, tuple[str, str]]:
    """Each accepted signal's (source, raw) as the journal holds them."""
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT signal_id, source, raw FROM signals WHERE status = 'accepted'"
        ).fetchall()
    return {signal_id: (source, raw) for signal_id, source, raw in rows}


def test_an_accepted_signal_is_journaled_with_the_source_it_came_in_on() -> None:
    """stdin, socket, TCP and webhook each name themselves in the accepted row, with the line
    as received: the journal can say who sent a trade."""
    with tempfile.TemporaryDirectory() as workdir, input_daemon(Path(workdir)) as daemon:
        trio.run(_send_one_on_each_source, daemon)
        daemon.terminate()
        tcp = daemon.config["sources"]["tcp"]
        rows = _accepted_rows(Path(daemon.config["journal"]["path"]))
    sources = {signal_id: source for signal_id, (source, _) in rows.items()}
    assert sources == {
        "from-stdin": "stdin",
        "from-socket": daemon.socket,
        "from-tcp": tcp,
        "from-webhook": "webhook:tv",
    }
    # The line each source sent, not a re-encoding of the parsed signal.
    assert rows["from-stdin"][1] == _buy("from-stdin", 1).decode()
    assert rows["from-tcp"][1] == _buy("from-tcp", 3).decode()
    # The webhook's row is the signal its alert became: the passphrase stays out of it.
    assert PASSPHRASE not in rows["from-webhook"][1]
