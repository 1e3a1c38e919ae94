"""The MUN objective: ID + WRT on the visible, infrared and auxiliary streams, plus the
identity alignment (IAL) and modality alignment (MAL) losses, with a switch per component.

``L = L_id + w_wrt L_wrt + w_ial L_ial + w_mal L_mal``, each term summed over the two
features of the network (the 2048-d GeM map feature ``pooled`` and the 1024-d projected
feature ``proj``; ID over both classifier heads), as the baseline does for ID and WRT.

  - ID and WRT run over every row of the batch: [visible; infrared; auxiliary] when the
    generator is on (the auxiliary rows carry the labels of their visible/infrared pair),
    so the auxiliary stream is a third modality the classifier and the triplets see, and
    those losses train the generator through it.
  - IAL aligns identity centres across all modalities present (three with the generator,
    visible and infrared without it).
  - MAL matches the visible and infrared feature distributions only (the abstract names
    those two; the auxiliary stream is the bridge, not a target).

The auxiliary stream is training-only: evaluation encodes each modality through its own
stem exactly as for every other method. The generator is a submodule of this objective, so
checkpoints carry it as method extra state (for exact resume), not in the evaluation model.
"""

from __future__ import annotations

import torch
from torch import nn

from vireid.errors import VireidError
from vireid.losses import id_loss, wrt_loss
from vireid.manifests.schema import MODALITY_INDEX
from vireid.methods.base import LossResult, Objective, TrainBatch
from vireid.methods.mun.config import MUNConfig
from vireid.methods.mun.generator import AuxiliaryGenerator
from vireid.methods.mun.losses import identity_alignment_loss, modality_alignment_loss

VISIBLE, INFRARED = MODALITY_INDEX["visible"], MODALITY_INDEX["infrared"]
AUXILIARY = len(MODALITY_INDEX)  # the generated modality's code: the one after the real ones


class MUNObjective(Objective):
    """MUN on the two-stem CLIP ReID model (see the module docstring)."""

    def __init__(self, cfg: MUNConfig, model: nn.Module):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.model = model
        # MUN is vision-only: the text encoder takes no part in any term (as in the baseline).
        model.text.requires_grad_(False)
        if cfg.use_aux:
            channels = int(model.stems["visible"].bn3.num_features)
            self.generator = AuxiliaryGenerator(channels, cfg.reduction)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = self.model.param_groups()
        if self.cfg.use_aux:
            # The generator is part of the visual pathway: it trains at the visual rate.
            groups["visual"] = groups["visual"] + list(self.generator.parameters())
        return groups

    def streams(self, visible: torch.Tensor, infrared: torch.Tensor, labels: torch.Tensor) -> tuple[dict, torch.Tensor]:
        """Network outputs for [visible; infrared; auxiliary] and the labels of those rows."""
        n = visible.shape[0]
        if infrared.shape[0] != n or len(labels) != 2 * n or not torch.equal(labels[:n], labels[n:]):
            raise VireidError("mun: the auxiliary modality mixes the i-th visible and i-th infrared rows, "
                              "so they must share an identity (equal counts, same label order)")
        x_v = self.model.stem_map(visible, "visible")
        x_r = self.model.stem_map(infrared, "infrared")
        x_a = self.generator(x_v, x_r)
        modality = torch.cat([torch.full((n,), m, dtype=torch.long, device=visible.device)
                              for m in (VISIBLE, INFRARED, AUXILIARY)])
        out = self.model.forward_maps(torch.cat([x_v, x_r, x_a]), modality)
        return out, torch.cat([labels, labels[:n]])

    def forward(self, batch: TrainBatch) -> LossResult:
        if self.cfg.use_aux:
            out, labels = self.streams(batch.visible, batch.infrared, batch.labels)
        else:
            out, labels = self.model(visible=batch.visible, infrared=batch.infrared), batch.labels
        return mun_loss(self.cfg, out, labels)


def mun_loss(cfg: MUNConfig, outputs: dict[str, torch.Tensor], labels: torch.Tensor) -> LossResult:
    """The MUN total on one batch's network outputs (keys ``logits``, ``proj_logits``,
    ``pooled``, ``proj``, ``modality``; any rows, auxiliary ones with modality 2)."""
    w = cfg.weights
    terms: dict[str, torch.Tensor] = {}
    features = (outputs["pooled"], outputs["proj"])
    modality = outputs["modality"]
    weighted: dict[str, torch.Tensor] = {}
    terms["id"] = sum(id_loss(h, labels, cfg.label_smoothing) for h in (outputs["logits"], outputs["proj_logits"]))
    total = weighted["id"] = terms["id"]
    if cfg.use_wrt:
        terms["wrt"] = sum(wrt_loss(f, labels) for f in features)
        weighted["wrt"] = w.wrt * terms["wrt"]
        total = total + weighted["wrt"]
    if cfg.use_ial:
        terms["ial"] = sum(identity_alignment_loss(f, labels, modality) for f in features)
        weighted["ial"] = w.ial * terms["ial"]
        total = total + weighted["ial"]
    if cfg.use_mal:
        terms["mal"] = sum(modality_alignment_loss(f, modality, VISIBLE, INFRARED) for f in features)
        weighted["mal"] = w.mal * terms["mal"]
        total = total + weighted["mal"]
    terms = {k: v.detach() for k, v in terms.items()}
    terms["total"] = total.detach()
    return LossResult(total=total, terms=terms, weighted=weighted, probe=outputs["proj"])
