"""CSDNConfig: the three stages of CSDN (prompts, SII fusion, HSE) and their settings.

Paper/code facts are in docs/methods/csdn.md with their sources; every choice the facts leave
open is a field here, with the chosen default stated next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vireid.errors import ConfigError


@dataclass
class PromptConfig:
    """Stage 1: the two modality-specific prompt learners (CSDN code: Adam, 60 epochs).

    The schedule is cosine with a linear warm-up: ``warmup_lr`` -> ``lr`` over
    ``warmup_epochs`` epochs, then half a cosine from ``lr`` down to ``min_lr``.
    """

    epochs: int = 60
    n_ctx: int = 4  # learnable tokens per identity per modality: "A photo of a X X X X person."
    lr: float = 3e-4
    weight_decay: float = 1e-4
    batch_size: int = 32
    warmup_epochs: int = 5
    warmup_lr: float = 1e-5
    min_lr: float = 1e-6
    temperature: float = 1.0  # raw dot products of un-normalised features

    def validate(self, prefix: str = "csdn.prompt") -> None:
        if self.epochs < 1 or self.n_ctx < 1 or self.batch_size < 2:
            raise ConfigError(f"{prefix}: epochs and n_ctx must be >= 1 and batch_size >= 2")
        if self.warmup_epochs < 0 or self.warmup_epochs >= self.epochs + 1:
            raise ConfigError(f"{prefix}.warmup_epochs: must be in [0, epochs], got {self.warmup_epochs}")
        if min(self.lr, self.warmup_lr, self.min_lr, self.weight_decay) < 0:
            raise ConfigError(f"{prefix}: learning rates and weight_decay must be >= 0")
        if not self.temperature > 0:
            raise ConfigError(f"{prefix}.temperature: must be > 0, got {self.temperature}")


@dataclass
class FusionConfig(PromptConfig):
    """Stage 2: the SII attention fusion (only the fusion trains; batch 64 in CSDN's code).

    The facts give only the batch size; epochs, lr and the schedule are chosen equal to
    stage 1's (``csdn.fusion.*`` changes them). ``n_ctx`` is unused here.

    ``attention`` says what the scaled dot-product attention runs over (the facts say
    "query = visible text, key/value = infrared text, scaled dot product" and no more):
      - "channels" (default): per identity, each of the D channels of the visible query
        attends over the D channels of that identity's infrared key/value (tokens of width
        1, scale 1). An identity's fused feature depends only on its own two texts, so the
        stage-3 targets do not depend on which identities are computed together.
      - "identities": each identity's visible query attends over the infrared keys of all
        identities in the call (tokens of width D, scale 1/sqrt(D)); stage 2 attends over
        the distinct identities of each batch, stage 3 over all training identities at once.
    """

    batch_size: int = 64
    dropout: float = 0.1
    attention: Literal["channels", "identities"] = "channels"

    def validate(self, prefix: str = "csdn.fusion") -> None:
        super().validate(prefix)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"{prefix}.dropout: must be in [0, 1), got {self.dropout}")
        if self.attention not in ("channels", "identities"):
            raise ConfigError(f"{prefix}.attention: channels or identities, got {self.attention!r}")


@dataclass
class HSEWeights:
    """Stage 3 loss weights (CSDN code): ID + MSEL + 0.15 WRT + 0.05 CE_v + 0.1 CE_r."""

    id: float = 1.0
    msel: float = 1.0
    wrt: float = 0.15
    text_visible: float = 0.05
    text_infrared: float = 0.1


@dataclass
class CSDNConfig:
    """The full method: prompts (stage 1) -> SII (stage 2) -> HSE training (stage 3).

    ``learnable_gem`` and ``train_neck_bias`` set the network's ``model.gem_learnable`` and
    ``model.neck_bias`` (CSDN's code: a trainable GeM exponent initialised at ``model.gem_p`` = 3
    and trainable BNNeck biases). ``use_sii = false`` skips stage 2 and uses the visible prompt features as the stage-3
    targets (an ablation, not the paper's method). ``msel_views``: how MSEL pairs the two
    visible views with the infrared rows ("mean": the mean of MSEL on [view1; ir] and on
    [view2; ir]; "first": view 1 only).
    """

    prompt: PromptConfig = field(default_factory=PromptConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    weights: HSEWeights = field(default_factory=HSEWeights)
    use_sii: bool = True
    learnable_gem: bool = True
    train_neck_bias: bool = True
    msel_views: Literal["mean", "first"] = "mean"
    label_smoothing: float = 0.0

    def validate(self) -> None:
        self.prompt.validate()
        self.fusion.validate()
        for name, value in vars(self.weights).items():
            if value < 0:
                raise ConfigError(f"csdn.weights.{name}: must be >= 0, got {value}")
        if self.msel_views not in ("mean", "first"):
            raise ConfigError(f"csdn.msel_views: mean or first, got {self.msel_views!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"csdn.label_smoothing: must be in [0, 1), got {self.label_smoothing}")
