"""The paper venue's websocket protocol states, without sockets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from brokers.sim.alpaca.marketdata import DataSession
from brokers.sim.alpaca.stream import TradeStreamSession
from brokers.sim.core.tape import PricePrint

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def only(key: str, secret: str) -> bool:
    return (key, secret) == ("k", "s")


def send(session: TradeStreamSession | DataSession, message: object) -> list[dict[str, object]]:
    return session.receive(json.dumps(message))


def test_trade_stream_listens_only_after_auth() -> None:
    """listen is refused before auth and accepted after either auth form."""
    session = TradeStreamSession(only)
    listen = {"action": "listen", "data": {"streams": ["trade_updates"]}}
    assert send(session, listen)[0]["data"] == {"status": "unauthorized", "action": "listen"}
    assert not session.listening
    send(session, {"action": "authenticate", "data": {"key_id": "k", "secret_key": "s"}})
    assert send(session, listen) == [
        {"stream": "listening", "data": {"streams": ["trade_updates"]}}
    ]
    assert session.listening


def test_trade_stream_bad_messages_get_errors() -> None:
    """Non-JSON and unknown actions are answered with an error, not a crash."""
    session = TradeStreamSession(only)
    assert session.receive(b"\xff")[0]["stream"] == "error"
    assert send(session, {"action": "dance"})[0]["stream"] == "error"
    assert send(session, {"action": "auth", "key": 1, "secret": None})[0]["data"] == {
        "status": "unauthorized",
        "action": "authenticate",
    }


def test_data_session_filters_prints_by_subscription() -> None:
    """Only subscribed symbols are printed; unsubscribe stops them."""
    session = DataSession(only)
    send(session, {"action": "auth", "key": "k", "secret": "s"})
    send(session, {"action": "subscribe", "trades": ["aapl"], "quotes": ["MSFT"]})
    prints = [PricePrint(1, "AAPL", Decimal(10), T0), PricePrint(2, "MSFT", Decimal(20), T0)]
    assert [(m["T"], m["S"]) for m in session.prints(prints)] == [("t", "AAPL"), ("q", "MSFT")]
    reply = send(session, {"action": "unsubscribe", "trades": ["AAPL"]})
    assert reply == [{"T": "subscription", "trades": [], "quotes": ["MSFT"], "bars": []}]
    assert [m["S"] for m in session.prints(prints)] == ["MSFT"]


def test_data_session_failed_auth_closes() -> None:
    """Wrong credentials answer error 402 and mark the connection for closing."""
    session = DataSession(only)
    assert send(session, {"action": "auth", "key": "k", "secret": "x"}) == [
        {"T": "error", "code": 402, "msg": "auth failed"}
    ]
    assert session.closing


def test_msgpack_data_session_reads_and_writes_msgpack() -> None:
    """A msgpack session reads binary msgpack requests and writes prices as floats with
    timestamp extensions; a JSON session writes text with exact decimal digits."""
    session = DataSession(only, msgpack=True)
    auth = msgspec.msgpack.encode({"action": "auth", "key": "k", "secret": "s"})
    assert session.receive(auth) == [{"T": "success", "msg": "authenticated"}]
    session.receive(msgspec.msgpack.encode({"action": "subscribe", "trades": ["AAPL"]}))
    frame = session.encode(session.prints([PricePrint(1, "AAPL", Decimal("101.25"), T0)]))
    assert isinstance(frame, bytes)
    (trade,) = msgspec.msgpack.decode(frame)
    assert (trade["p"], trade["t"]) == (101.25, T0)
    text = DataSession(only).encode([{"p": Decimal("101.25"), "t": T0}])
    assert text == '[{"p":101.25,"t":"2026-01-05T15:00:00Z"}]'
