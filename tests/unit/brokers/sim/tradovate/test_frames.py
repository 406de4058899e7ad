"""The Tradovate frame codec: what the official samples send, and nothing crashes it."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.sim.tradovate.frames import (
    FrameError,
    Heartbeat,
    Request,
    close_frame,
    data_frame,
    not_found,
    parse_client_frame,
    parse_server_frame,
    response,
)
from brokers.sim.tradovate.front import EntityChange
from brokers.sim.tradovate.stream_faults import fills_before_created


def test_plain_and_quoted_tokens_read_the_same() -> None:
    """authorize's body is the token, bare or JSON-quoted as tvSocket.js sends it."""
    plain = parse_client_frame("authorize\n0\n\nTOKEN")
    quoted = parse_client_frame('authorize\n0\n\n"TOKEN"')
    assert plain == quoted == Request("authorize", 0, "", "TOKEN")


def test_undefined_query_and_body_mean_absent() -> None:
    """The literal undefined on the query or body line reads as empty."""
    frame = parse_client_frame("account/list\n3\nundefined\nundefined")
    assert frame == Request("account/list", 3, "", None)


def test_leading_slash_and_missing_body_line_are_tolerated() -> None:
    """A leading / is dropped and a request of three lines has no body."""
    frame = parse_client_frame("/order/deps\n7\nmasterid=12")
    assert isinstance(frame, Request)
    assert frame.endpoint == "order/deps"
    assert frame.query_params() == {"masterid": "12"}
    assert frame.body is None


def test_json_body_is_decoded() -> None:
    """The fourth line is the JSON body."""
    frame = parse_client_frame('user/syncrequest\n1\n\n{"users":[5]}')
    assert isinstance(frame, Request)
    assert frame.body == {"users": [5]}


def test_client_heartbeat() -> None:
    """[] is the client's heartbeat."""
    assert parse_client_frame("[]") == Heartbeat()


def test_bad_json_body_is_an_error_carrying_the_id() -> None:
    """An unreadable body still names the request id so it can be answered."""
    with pytest.raises(FrameError) as raised:
        parse_client_frame("order/placeorder\n9\n\n{not json")
    assert raised.value.request_id == 9


@pytest.mark.parametrize("text", ["hello", "x\n-1\n\n", "x\nabc\n\n", "", "\n0\n\n"])
def test_unreadable_frames_raise_frame_error(text: str) -> None:
    """A frame without a readable endpoint or id raises FrameError."""
    with pytest.raises(FrameError):
        parse_client_frame(text)


def test_an_id_of_thousands_of_digits_is_a_frame_error() -> None:
    """An id too long for int() (over 4,300 digits) is refused as any bad id."""
    with pytest.raises(FrameError):
        parse_client_frame("account/list\n" + "9" * 5000 + "\n\n")


def test_a_body_nested_past_the_decoder_depth_is_a_frame_error() -> None:
    """A body of 100,000 nested brackets is unreadable JSON, answered with its id."""
    with pytest.raises(FrameError) as raised:
        parse_client_frame("order/placeorder\n4\n\n" + "[" * 100_000)
    assert raised.value.request_id == 4


def test_error_response_d_is_text_and_not_found_is_quoted() -> None:
    """A non-2xx d is a string; Not found is itself a JSON string, as §5 shows."""
    assert response(1, 401, "Invalid access token") == {
        "s": 401,
        "i": 1,
        "d": "Invalid access token",
    }
    assert not_found(1, "quote/subscribe")["d"] == '"Not found: quote/subscribe"'
    assert response(0, 200) == {"s": 200, "i": 0}


def test_server_frames_round_trip() -> None:
    """a and c frames read back as what was written."""
    a = parse_server_frame(data_frame([{"s": 200, "i": 0}]))
    assert (a.kind, a.messages) == ("a", [{"s": 200, "i": 0}])
    c = parse_server_frame(close_frame("Go away!"))
    assert (c.kind, c.close_code, c.close_reason) == ("c", 3000, "Go away!")


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_no_input_raises_anything_but_frame_error(text: str | bytes) -> None:
    """Whatever a client sends, the parser answers a frame or raises FrameError."""
    with contextlib.suppress(FrameError):
        parse_client_frame(text)


@given(
    st.lists(st.sampled_from(["authorize", "user/syncrequest", "/x", "", "undefined"]), max_size=2),
    st.text(alphabet="0123456789-x ", max_size=6),
    st.text(max_size=30),
    st.text(max_size=30),
)
def test_four_line_shapes_never_crash(ends: list[str], rid: str, query: str, body: str) -> None:
    """Request-shaped frames with any id, query and body never raise anything else."""
    text = "\n".join(["".join(ends), rid, query, body])
    try:
        frame = parse_client_frame(text)
    except FrameError:
        return
    assert isinstance(frame, (Request, Heartbeat))


@given(st.text(max_size=100))
def test_server_frame_parser_raises_only_frame_error(text: str) -> None:
    """The server-frame reader raises nothing but FrameError either."""
    with contextlib.suppress(FrameError):
        parse_server_frame(text)


def _change(entity_type: str, event: str, **entity: object) -> EntityChange:
    return EntityChange(entity_type, event, dict(entity))  # type: ignore[arg-type]


def test_reorder_moves_trade_reports_and_fills_before_created() -> None:
    """reorder_events sends the Trade report and fill before the order's Created."""
    created = _change("order", "Created", id=1)
    command = _change("command", "Created", id=2)
    new = _change("executionReport", "Created", execType="New")
    trade = _change("executionReport", "Created", execType="Trade")
    fill = _change("fill", "Created", id=3)
    position = _change("position", "Updated", id=4)
    changes = [created, command, new, trade, fill, position]
    assert fills_before_created(changes) == [trade, fill, created, command, new, position]


def test_reorder_leaves_a_list_without_created_alone() -> None:
    """A list with no order Created is unchanged."""
    changes = [_change("fill", "Created", id=3), _change("order", "Updated", id=1)]
    assert fills_before_created(changes) == changes
