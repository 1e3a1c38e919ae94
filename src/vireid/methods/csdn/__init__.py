"""CSDN (Yu, Dong et al., IEEE TMM 2025): CLIP-driven semantic discovery for VI-ReID.

Three stages in one run: (1) modality-specific prompt learners, (2) Semantic Information
Integration (SII, an attention fusion of the two modalities' prompt features), both trained
against cached image features; (3) High-level Semantic Embedding (HSE): the network trains
with ID + MSEL + WRT and a cross-entropy of its projected features against the fixed fused
text feature of every identity. Facts, choices and the equation-to-code map:
docs/methods/csdn.md.

This module is the declaration and imports no torch (``vireid methods`` reads it); the stages,
fusion, losses and objective load when the method trains.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vireid.errors import ConfigError, VireidError
from vireid.lazy import lazy_package
from vireid.methods.csdn.config import CSDNConfig, FusionConfig, HSEWeights, PromptConfig
from vireid.methods.method import Method, Variant
from vireid.methods.registry import register_method
from vireid.methods.tables import Published

if TYPE_CHECKING:
    from torch import nn

    from vireid.methods.base import Objective, Stage


@register_method
class CSDN(Method):
    name = "csdn"
    paper = "Yu, Dong et al., CLIP-Driven Semantic Discovery Network for VI-ReID, IEEE TMM 2025"
    summary = "modality-specific prompts (stage 1) + SII text fusion (stage 2) + HSE: ID + MSEL + WRT + text CE (stage 3)"
    config_cls = CSDNConfig
    docs = "docs/methods/csdn.md"
    published = Published("CSDN as cited by the EEES paper (Tables 1-2); docs/reference.md section 8", {
        "sysu": {"all_single": {"R1": 75.2, "mAP": 71.8}, "all_multi": {"R1": 80.6, "mAP": 66.3},
                 "indoor_single": {"R1": 82.0, "mAP": 85.0}, "indoor_multi": {"R1": 88.5, "mAP": 80.4}},
        "regdb": {"vis2ir": {"R1": 89.0, "mAP": 84.7}, "ir2vis": {"R1": 88.2, "mAP": 82.8}},
    })
    variants = (
        Variant("csdn", "the full method: prompts, SII fusion, HSE (three stages in one run)", {}),
        Variant("csdn-no-sii", "ablation: no SII stage; stage 3 targets are the visible prompt features",
                {"use_sii": False}),
    )

    def validate(self, cfg: CSDNConfig, train_cfg: Any) -> None:
        if train_cfg.sampler.per_modality < 2:
            raise ConfigError(f"sampler.per_modality: CSDN's MSEL compares each image with the other images of "
                              f"its identity and modality, so batches need at least 2 per identity, got "
                              f"{train_cfg.sampler.per_modality}")

    def build_model(self, model_cfg, num_classes: int, cfg: CSDNConfig) -> nn.Module:
        from vireid.models.registry import build_model

        return build_model(replace(model_cfg, gem_learnable=cfg.learnable_gem, neck_bias=cfg.train_neck_bias),
                           num_classes)

    def stages(self, cfg: CSDNConfig) -> list[Stage]:
        from vireid.methods.csdn.stages import FusionStage, ModalityPromptStage

        return [ModalityPromptStage(cfg.prompt)] + ([FusionStage(cfg.fusion)] if cfg.use_sii else [])

    def objective(self, cfg: CSDNConfig, model: nn.Module, stage_outputs: dict[str, dict]) -> Objective:
        from vireid.methods.csdn.objective import CSDNObjective
        from vireid.methods.csdn.stages import FUSION, PROMPTS

        source = stage_outputs.get(FUSION, {}).get("class_text") if cfg.use_sii else \
            stage_outputs.get(PROMPTS, {}).get("text_visible")
        if source is None:
            raise VireidError("csdn: stage outputs are missing (run stages prompts and fusion first)")
        return CSDNObjective(cfg, model, source.to(next(model.parameters()).device))


# The training parts (torch) load on first use.
lazy_package(__name__, {
    "CSDNObjective": "objective", "csdn_loss": "objective", "FusionStage": "stages", "ModalityPromptStage": "stages",
    "fuse_all": "stages", "stage_lr": "stages", "SemanticFusion": "fusion", "msel_loss": "losses",
    "stage_pair_loss": "losses",
})
__all__ = [
    "CSDN", "CSDNConfig", "CSDNObjective", "FusionConfig", "FusionStage", "HSEWeights", "PromptConfig",
    "ModalityPromptStage", "SemanticFusion", "csdn_loss", "fuse_all", "msel_loss", "stage_lr", "stage_pair_loss",
]
