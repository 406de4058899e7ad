"""Tradovate's websocket framing, both directions (pure: no I/O, no clock).

The server sends text frames whose first character says what they are: ``o`` (open), ``h``
(heartbeat), ``a[...]`` (a JSON array of messages), ``c[code,"reason"]`` (close). A client
sends ``[]`` (its heartbeat) or a request of four lines, ``endpoint\\nid\\nquery\\nbody``.

Requests are read as leniently as the official samples need: a leading ``/`` on the
endpoint, the literal ``undefined`` for an empty query or body (``JSON.stringify(undefined)``),
a missing body line, a quoted token on ``authorize``. Anything else unreadable raises
``FrameError``, which carries the request id when one could be read so the socket can
answer it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

import attrs
import msgspec

if TYPE_CHECKING:
    from brokers.sim.tradovate.front import EntityChange

JSON = dict[str, Any]
OPEN_FRAME = "o"
HEARTBEAT_FRAME = "h"
CLIENT_HEARTBEAT = "[]"
# The only close the digest shows; our own closes use the same code with their reason.
CLOSE_CODE = 3000
BAD_REQUEST = 400
# JavaScript's ``JSON.stringify(undefined)``, which the samples send for "nothing".
UNDEFINED = "undefined"
# Ids are the client's counter; a bigger one is no id a client could mean.
MAX_REQUEST_ID = 2**53

ShutdownReason = Literal["Maintenance", "ConnectionQuotaReached", "IPQuotaReached"]

_encode = msgspec.json.Encoder(decimal_format="number")


class FrameError(ValueError):
    """A client frame the venue cannot read; ``request_id`` when the id line was readable."""

    def __init__(self, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@attrs.frozen
class Heartbeat:
    """The client's ``[]``."""


@attrs.frozen
class Request:
    """One client request. ``endpoint`` has no leading ``/``; ``body`` is decoded JSON
    (None when absent), except on ``authorize``, where it is the token text."""

    endpoint: str
    request_id: int
    query: str
    body: Any

    @property
    def route(self) -> str:
        """The endpoint as matched: Tradovate's names are case-insensitive
        (``md/subscribeQuote`` and ``md/subscribequote`` both appear in its samples)."""
        return self.endpoint.lower()

    def query_params(self) -> dict[str, str]:
        """The query line as ``name=value`` pairs (``masterid=1&x=2``)."""
        return dict(parse_qsl(self.query, keep_blank_values=True))


ClientFrame = Heartbeat | Request


def parse_client_frame(text: str | bytes) -> ClientFrame:
    """Read one frame a client sent; raises FrameError, never anything else."""
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError:
            raise FrameError("frame is not UTF-8 text") from None
    if text.strip() == CLIENT_HEARTBEAT:
        return Heartbeat()
    lines = text.split("\n", 3)
    if len(lines) < 2:
        raise FrameError("expected endpoint\\nid\\nquery\\nbody")
    endpoint = lines[0].strip().removeprefix("/")
    request_id = _request_id(lines[1])
    if not endpoint:
        raise FrameError("empty endpoint", request_id)
    query = _absent_if_undefined(lines[2]) if len(lines) > 2 else ""
    body_text = _absent_if_undefined(lines[3]) if len(lines) > 3 else ""
    if endpoint.lower() == "authorize":
        return Request(endpoint, request_id, query, _token(body_text))
    return Request(endpoint, request_id, query, _json_body(body_text, request_id))


def _request_id(line: str) -> int:
    text = line.strip()
    if not text.isascii() or not text.isdigit():
        raise FrameError(f"request id must be a non-negative integer, not {line[:40]!r}")
    if len(text) > len(str(MAX_REQUEST_ID)):
        # Before int(): past 4,300 digits it raises ValueError instead of reading them.
        raise FrameError("request id too large")
    value = int(text)
    if value > MAX_REQUEST_ID:
        raise FrameError("request id too large")
    return value


def _absent_if_undefined(line: str) -> str:
    stripped = line.strip()
    return "" if stripped == UNDEFINED else stripped


def _token(body: str) -> str:
    # tvSocket.js sends JSON.stringify(token): a quoted string.
    if len(body) >= 2 and body[0] == body[-1] == '"':
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return body
        return decoded if isinstance(decoded, str) else body
    return body


def _json_body(body: str, request_id: int) -> Any:
    if not body:
        return None
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise FrameError(f"body is not JSON: {exc}", request_id) from None
    except RecursionError:
        # msgspec gives up on deep nesting this way, not with a DecodeError.
        raise FrameError("body is nested too deeply", request_id) from None


# The server's side.


def data_frame(messages: list[JSON]) -> str:
    """``a[...]``: several messages in one frame."""
    return "a" + _encode.encode(messages).decode()


def close_frame(reason: str, code: int = CLOSE_CODE) -> str:
    return "c" + _encode.encode([code, reason]).decode()


def response(request_id: int, status: int, d: Any = None) -> JSON:
    """``{"s","i"}`` plus ``d`` when there is one; a non-2xx ``d`` is the error text."""
    message: JSON = {"s": status, "i": request_id}
    if d is not None:
        message["d"] = d if 200 <= status < 300 or isinstance(d, str) else _text(d)
    return message


def error_response(request_id: int, status: int, text: str) -> JSON:
    return response(request_id, status, text)


def not_found(request_id: int, endpoint: str) -> JSON:
    """As Tradovate answers an unknown endpoint: the text is itself a JSON string."""
    return response(request_id, 404, _text(f"Not found: {endpoint}"))


def props_event(change: EntityChange) -> JSON:
    return {
        "e": "props",
        "d": {
            "entityType": change.entity_type,
            "eventType": change.event_type,
            "entity": change.entity,
        },
    }


def shutdown_event(reason_code: ShutdownReason, reason: str | None = None) -> JSON:
    d: JSON = {"reasonCode": reason_code}
    if reason is not None:
        d["reason"] = reason
    return {"e": "shutdown", "d": d}


def md_event(quotes: list[JSON]) -> JSON:
    return {"e": "md", "d": {"quotes": quotes}}


def _text(value: Any) -> str:
    return _encode.encode(value).decode()


# Reading server frames back (tests, and clients written against the venue).

ServerFrameKind = Literal["o", "h", "a", "c"]


@attrs.frozen
class ServerFrame:
    kind: ServerFrameKind
    messages: list[JSON] = attrs.field(factory=list)
    close_code: int | None = None
    close_reason: str | None = None


def parse_server_frame(text: str) -> ServerFrame:
    """Read one server frame; raises FrameError on anything else."""
    kind, payload = text[:1], text[1:]
    match kind:
        case "o" | "h" if not payload:
            return ServerFrame(kind)
        case "a":
            try:
                messages = msgspec.json.decode(payload, type=list[JSON])
            except msgspec.DecodeError as exc:
                raise FrameError(f"bad a frame: {exc}") from None
            return ServerFrame("a", messages)
        case "c":
            try:
                code, reason = msgspec.json.decode(payload, type=tuple[int, str])
            except msgspec.DecodeError as exc:
                raise FrameError(f"bad c frame: {exc}") from None
            return ServerFrame("c", close_code=code, close_reason=reason)
        case _:
            raise FrameError(f"unknown server frame {text[:20]!r}")
