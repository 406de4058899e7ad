"""Test-wide settings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from collections.abc import Iterator

# In CI the property tests replay the same examples every run: a red build is always
# reproducible, never a coin toss. Locally they keep exploring new examples.
# No per-example deadline anywhere: on a shared, loaded machine a slow example is not a
# defect, and a deadline would be a timed assertion by another name.
settings.register_profile("local", deadline=None)
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "local")


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A scratch directory with a short path, for unix sockets (control, notify)."""
    # Unix socket paths are limited to about 100 bytes; pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="td-") as path:
        yield Path(path)
