"""Test-wide settings."""

from __future__ import annotations

import os

from hypothesis import settings

# In CI the property tests replay the same examples every run: a red build is always
# reproducible, never a coin toss. Locally they keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
