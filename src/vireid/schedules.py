"""Learning-rate schedules, per epoch (0-based), as pure functions: the one place for them.

- :func:`warmup_multistep_factor`: the main training schedule of the field (CLIP-ReID, CSDN,
  EEES): linear warm-up from ``warmup_factor`` to 1, then x``gamma`` at each milestone.
- :func:`warmup_cosine_factor`: CLIP-ReID's prompt stage (EEES ISE, CLIP4VI-ReID TSG): linear
  warm-up ``(epoch + 1) / (warmup + 1)``, then half a cosine to 0.
- :func:`warmup_cosine_lr`: CSDN's prompt and fusion stages: linear warm-up from
  ``warmup_lr`` to ``lr``, then half a cosine down to ``min_lr``.

The two cosine rules are kept as their sources write them (the arithmetic order fixes the
bits of seeded runs), not folded into one formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def warmup_multistep_factor(epoch: int, *, warmup_epochs: int, warmup_factor: float,
                            milestones: Sequence[int], gamma: float) -> float:
    """Multiplier of the base learning rates during ``epoch``."""
    if epoch < warmup_epochs:
        alpha = epoch / warmup_epochs
        return warmup_factor * (1 - alpha) + alpha
    passed = sum(1 for m in milestones if epoch >= m)
    return gamma ** passed


def warmup_cosine_factor(epoch: int, warmup: int, epochs: int) -> float:
    """Multiplier of the base learning rate during ``epoch``: linear warm-up, then half a cosine."""
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    span = max(1, epochs - warmup)
    return 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / span))


def warmup_cosine_lr(epoch: int, *, lr: float, epochs: int, warmup_epochs: int, warmup_lr: float,
                     min_lr: float) -> float:
    """The learning rate of ``epoch``: linear warm-up from ``warmup_lr``, then cosine to ``min_lr``."""
    if epoch < warmup_epochs:
        return warmup_lr + (lr - warmup_lr) * epoch / warmup_epochs
    span = max(1, epochs - warmup_epochs)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * (epoch - warmup_epochs) / span))
