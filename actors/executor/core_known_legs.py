"""Signals whose orders the executor already knows: acked ``duplicate``, never sent again.

Past the router's dedupe only when the signal's ack was lost in a crash after its order went
out (found at startup). Which leg a buy, sell or target needs depends on the position, so
the leg found at the venue may not be the one computed now: a flat leg posted before a crash,
then the signal replayed from flat, would open a whole entry. Any leg of the signal known
means it was worked. Pure.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from actors.executor.core_flip import FLAT_LEG, SIGNAL_LEGS, incomplete
from actors.executor.core_risk_answers import RiskAnswers
from actors.executor.core_signals import Job, finished
from actors.executor.effects import Alert, Effect
from actors.ids import client_order_id_for, leg_of
from actors.messages import Action
from actors.order_state import TrackedOrder
from actors.records import IntentRecorded, JournalRecord


@attrs.define
class KnownLegs(RiskAnswers):
    def _worked_already(self, job: Job, wall: datetime, out: list[Effect]) -> bool:
        """True (and the signal acked) when a buy, sell or target has any leg known."""
        if job.signal.action is Action.CLOSE:
            return False
        for leg in SIGNAL_LEGS:
            existing = self.order(client_order_id_for(job.signal.id, leg))
            if existing is not None:
                self._ack_existing(job, existing, wall, out)
                return True
        return False

    def _ack_existing(
        self, job: Job, existing: TrackedOrder, wall: datetime, out: list[Effect]
    ) -> None:
        """Never resend. The intent names the signal on the order's row, so the next
        restart's dedupe knows it."""
        leg = leg_of(existing.client_order_id) or ""  # the signal's own id: it names one
        intent = IntentRecorded(at=wall, signal_id=job.signal.id, leg=leg, request=existing.request)
        records: tuple[JournalRecord, ...] = (intent, finished(job, wall, "order already exists"))
        if leg == FLAT_LEG:
            # Its open leg would be sized from a position that moved since: not guessed.
            reason = f"its {leg} leg was found after a restart; the open leg is not sent"
            records = (*records, incomplete(job, reason, wall))
            out.append(Alert(f"signal {job.signal.id}: {reason}"))
        self._ack(job, wall, out, status="duplicate", reason="order already exists", extra=records)
        self._job = None
