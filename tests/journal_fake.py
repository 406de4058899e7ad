"""The journal kept in memory: what an actor appends or commits, in order, for the test to read."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import attrs

from actors.records import JournalRecord

if TYPE_CHECKING:
    import trio

R = TypeVar("R", bound=JournalRecord)


@attrs.define
class MemoryJournal:
    """Collects the records an actor appends or commits, as the journal would keep them."""

    records: list[JournalRecord] = attrs.field(factory=list)
    # While set and not yet opened, ``append`` waits on it: the actor's loop stalls there.
    gate: trio.Event | None = None

    async def append(self, *records: JournalRecord) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.records.extend(records)

    async def commit(self, *records: JournalRecord) -> None:
        self.records.extend(records)

    def last(self, kind: type[R]) -> R | None:
        """The latest record of ``kind``, or None if there is none."""
        found = [r for r in self.records if isinstance(r, kind)]
        return found[-1] if found else None
