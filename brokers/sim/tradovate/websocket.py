"""The Tradovate user websocket (``/v1/websocket``).

After ``authorize`` with an access token, ``user/syncrequest`` (``{"users": [id]}`` or
``{"accounts": [id]}``) answers the front's entity snapshot and, only after it, streams
every entity change as ``props`` events: each command's changes in one ``a`` frame, in the
order they happened. Any other endpoint is a REST call made over the socket
(``call_rest``).

``splitResponses`` is accepted and changes nothing: the snapshot is always one answer (the
venue's is small; how Tradovate splits one is not documented). ``entityTypes`` narrows the
snapshot's lists and the events to those types (``"order"`` or ``"orders"``); ``users``
and ``contractGroups``, which every SyncMessage has, are always there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from brokers.sim.tradovate import api
from brokers.sim.tradovate.connection import Answer, serve_connection
from brokers.sim.tradovate.frames import (
    BAD_REQUEST,
    error_response,
    not_found,
    props_event,
    response,
)
from brokers.sim.tradovate.sockets import SocketKind

if TYPE_CHECKING:
    from collections.abc import Mapping

    import trio
    from websockets.trio.server import ServerConnection

    from brokers.sim.tradovate.connection import TradovateConnection
    from brokers.sim.tradovate.frames import Request
    from brokers.sim.tradovate.front import EntityChange, TradovateFront

ALWAYS_SYNCED = ("users", "contractGroups")


async def call_rest(
    front: TradovateFront, endpoint: str, query: Mapping[str, str], body: Any, *, token: str
) -> tuple[int, Any]:
    """A REST endpoint answered over the socket: (HTTP-like status, JSON value), by the REST
    front's own handlers; an unknown endpoint is (404, None)."""
    return await api.call(front, endpoint, query, body, token=token)


def list_name(entity_type: str) -> str:
    """The SyncMessage list of an entity type: ``order`` → ``orders``,
    ``orderStrategy`` → ``orderStrategies``."""
    if entity_type.endswith("y"):
        return entity_type[:-1] + "ies"
    return entity_type + "s"


class SyncRequestError(ValueError):
    """A ``user/syncrequest`` body the venue cannot read."""


@attrs.frozen
class SyncRequest:
    """What a ``user/syncrequest`` asks for."""

    users: tuple[int, ...]
    accounts: tuple[int, ...]
    # List names (``orders``) to send; None: all of them.
    lists: frozenset[str] | None
    split_responses: bool


def read_sync_request(body: Any) -> SyncRequest:
    """Raises SyncRequestError with the reason."""
    if not isinstance(body, dict):
        raise SyncRequestError("body must be a JSON object with users or accounts")
    users, accounts = _ids(body, "users"), _ids(body, "accounts")
    if not users and not accounts:
        raise SyncRequestError("users or accounts required")
    types = body.get("entityTypes")
    lists: frozenset[str] | None = None
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise SyncRequestError("entityTypes must be a list of entity type names")
        lists = frozenset(t if t.endswith("s") else list_name(t) for t in types)
    return SyncRequest(users, accounts, lists, bool(body.get("splitResponses", False)))


def _ids(body: dict[str, Any], name: str) -> tuple[int, ...]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise SyncRequestError(f"{name} must be a list of integer ids")
    return tuple(value)


@attrs.define
class UserSocket:
    """The user socket's requests beyond ``authorize``."""

    _front: TradovateFront
    _subscription: int | None = None

    def user_of(self, token: str) -> int | None:
        return self._front.access_user(token)

    async def handle(self, request: Request, connection: TradovateConnection) -> Answer:
        if request.route == "user/syncrequest":
            return self._sync(request, connection)
        status, d = await call_rest(
            self._front,
            request.endpoint,
            request.query_params(),
            request.body,
            token=connection.token or "",
        )
        if status == 404 and (d is None or (isinstance(d, str) and d.startswith("Not found"))):
            # The REST front's plain "Not found: X", quoted as the socket quotes it (§5).
            return Answer(not_found(request.request_id, request.endpoint))
        return Answer(response(request.request_id, status, d))

    def _sync(self, request: Request, connection: TradovateConnection) -> Answer:
        try:
            sync = read_sync_request(request.body)
        except SyncRequestError as exc:
            return Answer(error_response(request.request_id, BAD_REQUEST, str(exc)))
        front = self._front
        snapshot = front.sync_snapshot()
        ours = front.user_id in sync.users or front.account_id in sync.accounts
        if not ours:
            # As a wrong host answers: nothing there, not an error.
            return Answer(response(request.request_id, 200, {k: [] for k in snapshot}))
        wanted = sync.lists
        if wanted is not None:
            snapshot = {k: v for k, v in snapshot.items() if k in wanted or k in ALWAYS_SYNCED}
        answer = response(request.request_id, 200, snapshot)
        if self._subscription is not None:
            return Answer(answer)
        # Subscribed in the same step as the snapshot was taken: no change falls between.
        self._subscription, changes = front.changes.subscribe()

        async def forward() -> None:
            await self._forward(changes, connection, wanted)

        return Answer(answer, forward)

    async def _forward(
        self,
        changes: trio.MemoryReceiveChannel[list[EntityChange]],
        connection: TradovateConnection,
        wanted: frozenset[str] | None,
    ) -> None:
        faults = self._front.stream_faults
        async with changes:
            async for batch in changes:
                kept = [c for c in batch if wanted is None or list_name(c.entity_type) in wanted]
                connection.send_messages([props_event(c) for c in faults.arrange(kept)])
        # The hub let this subscription go (the client fell too far behind).
        connection.drop("too slow")

    def close(self) -> None:
        if self._subscription is not None:
            self._front.changes.unsubscribe(self._subscription)
            self._subscription = None


async def serve_user_socket(ws: ServerConnection, front: TradovateFront) -> None:
    """Run one ``/v1/websocket`` connection."""
    await serve_connection(ws, front, SocketKind.USER, UserSocket(front))
