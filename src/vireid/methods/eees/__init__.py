"""EEES (Dong et al.): explicit and enhanced semantics for caption-driven VI-ReID.

One method, six variants: the rows of the paper's Table 3. ``eees`` is the full Eq. 13;
``baseline`` keeps ID + WRT; ``ise`` learns identity prompts (CLIP-ReID / CSDN style) instead
of reading captions; ``ese`` adds the image-caption contrastive loss; ``ese-cvsc`` and
``ese-cmsp`` add one of the two modules. Equation-to-code map: docs/method.md.

This module is the declaration and imports no torch (``vireid methods`` reads it); the
objective, losses and the ISE stage load when the method trains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vireid.errors import ConfigError
from vireid.lazy import lazy_package
from vireid.manifests.names import MODALITIES
from vireid.methods.eees.config import EEESConfig, EEESWeights, ISEStageConfig
from vireid.methods.eees.published import PUBLISHED, TABLES
from vireid.methods.method import Method, Needs, Variant
from vireid.methods.registry import register_method

if TYPE_CHECKING:
    from torch import nn

    from vireid.methods.base import Objective, Stage

_OFF = dict(use_wrt=True, use_ise=False, use_ese=False, use_cvsc=False, use_cmsp=False)


@register_method
class EEES(Method):
    name = "eees"
    paper = "Dong et al., EEES: explicit and enhanced semantics for VI-ReID (Table 3 rows)"
    summary = "ID + WRT + caption contrastive (ESE) + cross-view compensation (CVSC) + purification (CMSP)"
    config_cls = EEESConfig
    docs = "docs/methods/eees.md"
    published = PUBLISHED
    tables = TABLES
    variants = (
        Variant("baseline", "ID + WRT on the two-stem CLIP RN50 (no text)", dict(_OFF)),
        Variant("ise", "learned identity prompts instead of captions (CLIP-ReID/CSDN style)",
                {**_OFF, "use_ise": True}),
        Variant("ese", "baseline + image-caption contrastive loss (Eq. 3-5)", {**_OFF, "use_ese": True}),
        Variant("ese-cvsc", "ESE + cross-view semantics compensation (Eq. 6-11)",
                {**_OFF, "use_ese": True, "use_cvsc": True}),
        Variant("ese-cmsp", "ESE + cross-modality semantics purification (Eq. 12)",
                {**_OFF, "use_ese": True, "use_cmsp": True}),
        Variant("eees", "the full method, Eq. 13", {}),
    )

    def needs(self, cfg: EEESConfig) -> Needs:
        return Needs(captions=MODALITIES if cfg.use_ese else ())

    def validate(self, cfg: EEESConfig, train_cfg: Any) -> None:
        per_modality = train_cfg.sampler.per_modality
        if cfg.use_cvsc and per_modality < cfg.m + 1:
            raise ConfigError(
                f"sampler.per_modality: CVSC fuses every image with eees.m={cfg.m} others of "
                f"its identity and modality, so batches need at least {cfg.m + 1} per "
                f"identity, got {per_modality}")

    def stages(self, cfg: EEESConfig) -> list[Stage]:
        from vireid.methods.eees.prompts import ISEStage

        return [ISEStage(cfg.prompt, cfg.temperature)] if cfg.use_ise else []

    def objective(self, cfg: EEESConfig, model: nn.Module, stage_outputs: dict[str, dict]) -> Objective:
        from vireid.methods.eees.objective import EEESObjective

        class_text = stage_outputs["prompts"]["class_text"] if cfg.use_ise else None
        if class_text is not None:
            class_text = class_text.to(next(model.parameters()).device)
        return EEESObjective(cfg, model, class_text)


# The training parts (torch) load on first use.
lazy_package(__name__, {"EEESObjective": "objective", "ISEStage": "prompts"})
__all__ = ["EEES", "EEESConfig", "EEESObjective", "EEESWeights", "ISEStage", "ISEStageConfig"]
