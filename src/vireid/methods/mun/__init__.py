"""MUN (Yu et al., ICCV 2023): Modality Unifying Network, a vision-only VI-ReID method.

Known from its abstract only (no public code or equations): vireid implements a documented
reading (docs/methods/mun.md) on the two-stem CLIP RN50 the other methods use, so comparisons
isolate the method. One method, four variants: ``mun`` (full: auxiliary modality generator +
identity alignment + modality alignment, with ID + WRT) and one variant per component
switched off. The ID + WRT baseline is EEES's ``baseline`` variant.

This module is the declaration and imports no torch (``vireid methods`` reads it); the
generator, losses and objective load when the method trains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vireid.lazy import lazy_package
from vireid.methods.method import Method, Variant
from vireid.methods.mun.config import MUNConfig, MUNWeights
from vireid.methods.registry import register_method
from vireid.methods.tables import Published

if TYPE_CHECKING:
    from torch import nn

    from vireid.methods.base import Objective


@register_method
class MUN(Method):
    name = "mun"
    paper = "Yu et al., Modality Unifying Network for Visible-Infrared Person Re-Identification (ICCV 2023), read from its abstract"
    summary = "ID + WRT + auxiliary modality (cross-/intra-modality learners) + identity and modality alignment losses"
    config_cls = MUNConfig
    docs = "docs/methods/mun.md"
    published = Published("MUN (ICCV 2023) as cited by a later paper; docs/reference.md section 8",
                          {"sysu": {"all_single": {"R1": 76.24, "mAP": 73.81}}})
    variants = (
        Variant("mun", "the full method: auxiliary modality + identity alignment + modality alignment", {}),
        Variant("mun-no-aux", "MUN without the auxiliary modality generator (alignment on visible/infrared only)",
                {"use_aux": False}),
        Variant("mun-no-ial", "MUN without the identity alignment loss", {"use_ial": False}),
        Variant("mun-no-mal", "MUN without the modality alignment loss", {"use_mal": False}),
    )

    def objective(self, cfg: MUNConfig, model: nn.Module, stage_outputs: dict[str, dict]) -> Objective:
        from vireid.methods.mun.objective import MUNObjective

        return MUNObjective(cfg, model)


# The training parts (torch) load on first use.
lazy_package(__name__, {
    "AuxiliaryGenerator": "generator", "CrossModalityLearner": "generator", "IntraModalityLearner": "generator",
    "MUNObjective": "objective", "mun_loss": "objective", "identity_alignment_loss": "losses",
    "modality_alignment_loss": "losses",
})
__all__ = [
    "MUN", "AuxiliaryGenerator", "CrossModalityLearner", "IntraModalityLearner", "MUNConfig", "MUNObjective",
    "MUNWeights", "identity_alignment_loss", "modality_alignment_loss", "mun_loss",
]
