"""What the Tradovate front's user websockets push: entity changes (``props`` events)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

# The entity types the user websocket pushes, as Tradovate spells them (camelCase singular).
EntityType = Literal[
    "account",
    "cashBalance",
    "command",
    "commandReport",
    "contract",
    "executionReport",
    "fill",
    "order",
    "orderStrategy",
    "orderStrategyLink",
    "orderVersion",
    "position",
]
EventType = Literal["Created", "Updated", "Deleted"]


@attrs.frozen
class EntityChange:
    """One ``props`` event: an entity as it stands after the change, in Tradovate's JSON."""

    entity_type: EntityType
    event_type: EventType
    entity: dict[str, Any]
