"""The schedule of one prompt-fitting stage, a config section of its own so that the method
configs that embed it (EEES's ISE, CLIP4VI-ReID's TSG) stay importable without torch; the loop
that runs it is :mod:`vireid.methods.prompt_fitting`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PromptFitConfig:
    """The schedule of one prompt-fitting stage (CLIP-ReID stage-1 defaults)."""

    epochs: int = 60
    n_ctx: int = 4  # learnable tokens per identity ("A photo of a X X X X person.")
    lr: float = 3.5e-4
    weight_decay: float = 1e-4
    batch_size: int = 64
    warmup_epochs: int = 5
