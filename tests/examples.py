"""How hard the property tests try, by Hypothesis profile (`HYPOTHESIS_PROFILE`):

- `dev` (`make test-unit`): a fifth of each test's examples, for a fast edit-test loop;
- `default` (`make test`): each test's own number;
- `ci` (`.ci/run`): twice that, on every push.

A test states its examples relative to the default: `settings(max_examples=examples(400))`.
"""

from __future__ import annotations

import os

from hypothesis import settings

SCALES = {"dev": 0.2, "default": 1.0, "ci": 2.0}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
if PROFILE not in SCALES:
    raise SystemExit(f"HYPOTHESIS_PROFILE={PROFILE!r}: choose one of {', '.join(SCALES)}")
for _name, _scale in SCALES.items():
    settings.register_profile(_name, max_examples=max(10, round(100 * _scale)))
settings.load_profile(PROFILE)


def examples(default: int) -> int:
    """A property test's examples under the active profile (at least 10)."""
    return max(10, round(default * SCALES[PROFILE]))
