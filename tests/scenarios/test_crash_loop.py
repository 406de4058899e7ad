"""Incident 003/004: kill -9 of the real daemon process at each step of the order path, a
restart on the same journal, the same signals fed again. Nothing is sent twice, no fill is
lost, and the daemon's, the journal's and the venue's positions agree after every restart."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

import pytest

from tests.scenarios.crash_steps import STEP_SYMBOLS, STEPS, killed_at_a_random_moment
from tests.scenarios.crash_world import crash_world

if TYPE_CHECKING:
    from pathlib import Path

# A randomized run replays exactly with CRASH_LOOP_SEED set to the seed its failure printed.
SEED_VARIABLE = "CRASH_LOOP_SEED"
ITERATIONS = 60


async def test_a_kill_at_each_step_of_the_order_path_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    """One kill -9 per step (intent, send, ack, partial fills, bracket); books balance."""
    async with crash_world(tmp_path) as world:
        for index, (name, step) in enumerate(STEPS.items()):
            try:
                await step(world, STEP_SYMBOLS[index], f"step-{index}", 0.0)
            except AssertionError as exc:
                raise AssertionError(f"killed {name}: {exc}") from exc


@pytest.mark.slow
async def test_kills_at_random_steps_and_moments_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    """A seeded loop of kill -9s at random steps, with random delays, and random moments."""
    seed = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    steps = list(STEPS.items())
    async with crash_world(tmp_path) as world:
        for iteration in range(ITERATIONS):
            what = "at a random moment"
            try:
                if rng.random() < 0.4:
                    await killed_at_a_random_moment(world, rng, f"moment-{iteration}")
                else:
                    what, step = rng.choice(steps)
                    jitter = rng.choice([0.0, rng.uniform(0, 0.02)])
                    await step(world, STEP_SYMBOLS[iteration], f"random-{iteration}", jitter)
            except AssertionError as exc:
                raise AssertionError(
                    f"{SEED_VARIABLE}={seed}, iteration {iteration}, killed {what}: {exc}"
                ) from exc
