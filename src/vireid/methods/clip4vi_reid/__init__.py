"""CLIP4VI-ReID (Yang et al., arXiv 2511.10309): CLIP semantic bridge for VI-ReID.

A careful reading of the paper's ABSTRACT (no code or equations are public), not the
authors' implementation. Three modules:

TSG  text semantics for VISIBLE images only (learned identity prompts, or visible captions),
     a preparatory stage (:mod:`.tsg`), keeping visible-text alignment in the main stage;
IFE  infrared image features are pulled toward their identity's TSG text (:func:`text_bridge_loss`
     on infrared rows), so visible and infrared meet through the text;
HSA  the text semantics are refined during the main stage to fit both modalities equally
     (:func:`hsa_text_loss`), and both modalities align to the refined texts.

Plus ID + WRT. Module-to-code map and the alternatives considered: docs/methods/clip4vi-reid.md.

This module is the declaration and imports no torch (``vireid methods`` reads it); the TSG
stage, losses and objective load when the method trains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vireid.lazy import lazy_package
from vireid.methods.clip4vi_reid.config import CLIP4VIReIDConfig, CLIP4VIReIDWeights, TSGStageConfig
from vireid.methods.method import Method, Needs, Variant
from vireid.methods.registry import register_method

if TYPE_CHECKING:
    from torch import nn

    from vireid.methods.base import Objective, Stage

NAME = "clip4vi-reid"


@register_method
class CLIP4VIReID(Method):
    name = NAME
    paper = ("Yang et al., CLIP4VI-ReID: Learning Modality-shared Representations via CLIP Semantic "
             "Bridge for VI-ReID, arXiv 2511.10309 (a reading of the abstract, not the authors' code)")
    summary = "text from visible images only (TSG) -> infrared rectified toward it (IFE) -> refined shared text (HSA)"
    config_cls = CLIP4VIReIDConfig
    docs = "docs/methods/clip4vi-reid.md"
    renamed_presets = {f"{dataset}-{NAME}": f"{NAME}-{dataset}" for dataset in ("sysu", "regdb", "llcm")}
    variants = (
        Variant(NAME, "full method; TSG = identity prompts learned on visible images only", {}),
        Variant(f"{NAME}-captions", "full method; TSG = captions of visible images only", {"tsg": "captions"}),
        Variant(f"{NAME}-no-ife", "ablation: infrared features not aligned to the text (IFE off)",
                {"use_ife": False}),
        Variant(f"{NAME}-no-hsa", "ablation: TSG texts stay fixed, no refinement (HSA off)", {"use_hsa": False}),
        Variant(f"{NAME}-tsg", "ablation: TSG only (visible-text alignment; IFE and HSA off)",
                {"use_ife": False, "use_hsa": False}),
    )

    def needs(self, cfg: CLIP4VIReIDConfig) -> Needs:
        return Needs(captions=("visible",) if cfg.tsg == "captions" else ())

    def stages(self, cfg: CLIP4VIReIDConfig) -> list[Stage]:
        from vireid.methods.clip4vi_reid.tsg import TSGStage

        return [TSGStage(cfg.stage, cfg.tsg, cfg.temperature)]

    def objective(self, cfg: CLIP4VIReIDConfig, model: nn.Module, stage_outputs: dict[str, dict[str, Any]]) -> Objective:
        from vireid.methods.clip4vi_reid.objective import CLIP4VIReIDObjective

        return CLIP4VIReIDObjective(cfg, model, stage_outputs["tsg"])


# The training parts (torch) load on first use.
lazy_package(__name__, {
    "CLIP4VIReIDObjective": "objective", "clip4vi_reid_loss": "objective", "TSGStage": "tsg",
    "hsa_text_loss": "losses", "identity_prototypes": "losses", "text_bridge_loss": "losses",
})
__all__ = [
    "CLIP4VIReIDConfig", "CLIP4VIReIDObjective", "CLIP4VIReID", "CLIP4VIReIDWeights", "TSGStage", "TSGStageConfig",
    "clip4vi_reid_loss", "hsa_text_loss", "identity_prototypes", "text_bridge_loss",
]
