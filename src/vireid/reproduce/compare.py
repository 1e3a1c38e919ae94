"""Is a row's difference to the baseline resolved by the seeds it was measured over?

The combined std of a difference of two means over seeds is
``sqrt(std_a^2 / n_a + std_b^2 / n_b)`` (sample stds over seeds, n seeds each): the standard
error of the difference. A difference larger than twice that is marked: for normal seed
noise that is about a 95% two-sided test. With one seed on either side nothing is resolved.
"""

from __future__ import annotations

import math
from typing import Any

RESOLVED_AT = 2.0  # x the combined std


def compare(row: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """``row`` minus ``base`` for one metric; each is {"mean", "std", "per_seed"} in percent."""
    n_row, n_base = len(row["per_seed"]), len(base["per_seed"])
    diff = row["mean"] - base["mean"]
    if n_row < 2 or n_base < 2:
        return {"diff": diff, "combined_std": None, "ratio": None, "resolved": False}
    combined = math.sqrt(row["std"] ** 2 / n_row + base["std"] ** 2 / n_base)
    ratio = abs(diff) / combined if combined > 0 else math.inf
    return {"diff": diff, "combined_std": combined, "ratio": ratio, "resolved": ratio > RESOLVED_AT}


def seeds_to_resolve(diff: float, std: float, ratio: float = RESOLVED_AT) -> int:
    """Seeds per row (both rows alike) for a true difference ``diff`` to exceed ``ratio`` x the
    combined std ``std * sqrt(2 / n)`` when both rows have seed std ``std``."""
    if diff <= 0 or std < 0:
        raise ValueError(f"seeds_to_resolve: need diff > 0 and std >= 0, got {diff} and {std}")
    return max(2, math.ceil(2 * (ratio * std / diff) ** 2))
