"""EEESConfig: which terms of Eq. 13 are on, their weights, and the ISE prompt stage.

The defaults are the full method (Table 3 row "EEES"); the variants in
``vireid.methods.eees`` switch terms off for the other rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vireid.errors import ConfigError
from vireid.methods.prompt_config import PromptFitConfig


@dataclass
class EEESWeights:
    """lambda_1..lambda_4 of Eq. 13 (paper values)."""

    wrt: float = 0.25
    con: float = 0.2
    kd: float = 0.08
    cmsp: float = 0.01


@dataclass
class ISEStageConfig(PromptFitConfig):
    """ISE stage 1 (CLIP-ReID style): learn identity prompt contexts with both encoders frozen."""

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.n_ctx < 1:
            raise ConfigError("eees.prompt.epochs and eees.prompt.n_ctx must be >= 1, eees.prompt.batch_size >= 2")


@dataclass
class EEESConfig:
    """Which EEES terms are on (defaults: the full method).

    ``use_ise`` replaces caption targets with learned identity prompts (``prompt_ce_loss``
    weighted by ``weights.con``, after the prompt stage ``prompt``); it excludes ``use_ese``.
    CVSC and CMSP need ESE captions.

    Loss conventions the paper leaves open (defaults = vireid's first reading; the
    ``authors`` recipe switches them to the authors' code practice; docs/methods/eees.md):

    ``positives`` (L_con^o, L_con^m): ``"pair"`` = Eq. 3-5 as written (the paired caption is
    the only positive); ``"identity"`` = supervised contrastive learning, every same-identity
    caption of the modality is a positive ("we employ contrastive loss (Khosla et al. 2020)").
    ``text_space`` (ESE, CVSC, KD, CMSP, ISE): ``"normalized"`` = L2-normalised features,
    similarity cosine / ``temperature``; ``"raw"`` = raw projected image and text features,
    similarity = dot product (temperature 1, as CLIP-ReID/CSDN), distances on raw features.
    ``kd_reduction`` (Eq. 11): ``"sum"`` = squared L2 norm per row (Eq. 11 as typeset),
    ``"mean"`` = element mean ("MSE loss", the sentence under Eq. 11).
    """

    use_wrt: bool = True
    use_ise: bool = False
    use_ese: bool = True
    use_cvsc: bool = True
    use_cmsp: bool = True
    weights: EEESWeights = field(default_factory=EEESWeights)
    m: int = 1
    temperature: float = 0.07
    label_smoothing: float = 0.0
    positives: Literal["pair", "identity"] = "pair"
    text_space: Literal["normalized", "raw"] = "normalized"
    kd_reduction: Literal["sum", "mean"] = "sum"
    prompt: ISEStageConfig = field(default_factory=ISEStageConfig)

    def validate(self) -> None:
        if self.use_ise and self.use_ese:
            raise ConfigError("eees: use_ise and use_ese are alternatives (prompts or captions), enable one")
        if (self.use_cvsc or self.use_cmsp) and not self.use_ese:
            raise ConfigError("eees: use_cvsc and use_cmsp need use_ese (they operate on caption features)")
        if self.m < 0:
            raise ConfigError(f"eees.m: must be >= 0, got {self.m}")
        if not self.temperature > 0:
            raise ConfigError(f"eees.temperature: must be > 0, got {self.temperature}")
        for key, allowed in (("positives", ("pair", "identity")), ("text_space", ("normalized", "raw")),
                             ("kd_reduction", ("sum", "mean"))):
            if getattr(self, key) not in allowed:
                raise ConfigError(f"eees.{key}: one of {', '.join(allowed)}, got {getattr(self, key)!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"eees.label_smoothing: must be in [0, 1), got {self.label_smoothing}")
