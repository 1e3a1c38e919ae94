"""CLIP4VIReIDConfig: which CLIP4VI-ReID modules are on, their weights, and the TSG stage.

The defaults are the full method with learned identity prompts as the text semantics; the
variants in ``vireid.methods.clip4vi_reid`` switch the text source to visible captions or turn
IFE / HSA off. Every setting is a reading of the paper's abstract (no code or equations are
public): see docs/methods/clip4vi-reid.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vireid.errors import ConfigError
from vireid.methods.prompt_config import PromptFitConfig

TSG_SOURCES = ("prompts", "captions")


@dataclass
class CLIP4VIReIDWeights:
    """Weights of the main-stage terms (ID loss has weight 1).

    ``tsg``: visible image -> identity text cross-entropy (keeps the visible-text alignment);
    ``ife``: infrared image -> identity text cross-entropy (IFE); together they are CLIP-ReID's
    stage-2 image-to-text loss (weight 1) split by modality. ``hsa``: the text refinement loss;
    ``wrt``: weighted-regularisation triplet (as in the EEES baseline).
    """

    wrt: float = 0.25
    tsg: float = 1.0
    ife: float = 1.0
    hsa: float = 1.0


@dataclass
class TSGStageConfig(PromptFitConfig):
    """TSG, the preparatory stage: identity text semantics from VISIBLE images only.

    ``prompts``: ``epochs`` of prompt learning (image and text encoders frozen, CLIP-ReID
    stage 1) against the visible training images' features. ``captions``: the visible
    captions are encoded ``caption_batch_size`` at a time (progress saved after each chunk).
    """

    caption_batch_size: int = 256

    def validate(self) -> None:
        if self.epochs < 1 or self.n_ctx < 1 or self.caption_batch_size < 1:
            raise ConfigError("clip4vi-reid.stage: epochs, n_ctx and caption_batch_size must be >= 1")
        if self.batch_size < 2:
            raise ConfigError(f"clip4vi-reid.stage.batch_size: must be >= 2, got {self.batch_size}")
        if self.lr <= 0 or self.weight_decay < 0 or self.warmup_epochs < 0:
            raise ConfigError("clip4vi-reid.stage: lr must be > 0, weight_decay and warmup_epochs >= 0")


@dataclass
class CLIP4VIReIDConfig:
    """CLIP4VI-ReID switches (defaults: the full method, TSG from learned prompts).

    ``tsg``: where the identity text semantics come from, ``prompts`` (learned tokens fitted
    to visible features) or ``captions`` (visible-image captions; infrared captions are
    neither used nor required). ``use_ife``: align infrared features to the identity texts.
    ``use_hsa``: refine the texts during the main stage so they fit both modalities equally,
    and align both modalities to the refined texts. ``balance``: weight of HSA's modality
    balance inside the ``hsa`` term.
    """

    tsg: Literal["prompts", "captions"] = "prompts"
    use_ife: bool = True
    use_hsa: bool = True
    use_wrt: bool = True
    weights: CLIP4VIReIDWeights = field(default_factory=CLIP4VIReIDWeights)
    balance: float = 1.0
    temperature: float = 0.07
    label_smoothing: float = 0.0
    stage: TSGStageConfig = field(default_factory=TSGStageConfig)

    def validate(self) -> None:
        if self.tsg not in TSG_SOURCES:
            raise ConfigError(f"clip4vi-reid.tsg: must be one of {', '.join(TSG_SOURCES)}, got {self.tsg!r}")
        if not self.temperature > 0:
            raise ConfigError(f"clip4vi-reid.temperature: must be > 0, got {self.temperature}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"clip4vi-reid.label_smoothing: must be in [0, 1), got {self.label_smoothing}")
        if self.balance < 0 or any(v < 0 for v in vars(self.weights).values()):
            raise ConfigError("clip4vi-reid: balance and weights.* must be >= 0")
        self.stage.validate()
