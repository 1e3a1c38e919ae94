"""CSDN stage 3, High-level Semantic Embedding (HSE): the main training objective.

``L = ID + MSEL + 0.15 WRT + 0.05 CE(f_v^proj T^T) + 0.1 CE(f_r^proj T^T)`` where ``T`` [C, D] is the
fused text feature of every training identity (stage 2, fixed: a buffer) and the text CE
terms use raw projected image features and raw text features (dot product, temperature 1).
ID, MSEL and WRT run on both heads: ID on the two classifiers' logits, MSEL and WRT on the
GeM-pooled 2048-d feature and on the 1024-d projected feature (the un-normalised features,
as WRT is used in vireid's EEES objective). All loss maths is float32.

The two visible views (``batch.extra_visible[0]``, when ``augment.second_visible_view`` is on)
go through the visible stem together: rows [view 1; view 2; infrared]. ID, WRT and both text
CE terms see every row; MSEL pairs each visible view with the infrared rows (row i of both
shares an identity) and takes the mean of the two (``csdn.msel_views = "mean"``).
"""

from __future__ import annotations

import torch
from torch import nn

import torch.nn.functional as F

from vireid.errors import VireidError
from vireid.losses import id_loss, wrt_loss
from vireid.methods.base import LossResult, Objective, TrainBatch
from vireid.methods.csdn.config import CSDNConfig
from vireid.methods.csdn.losses import full_precision, msel_loss


class CSDNObjective(Objective):
    """Stage 3 of CSDN: the network trains; prompts, fusion and text encoder are frozen."""

    def __init__(self, cfg: CSDNConfig, model: nn.Module, class_text: torch.Tensor):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.model = model
        # Only the fixed fused targets come from the text side: freeze the text encoder so the
        # optimiser holds no state for it and DDP sees no unused trainable parameters.
        model.text.requires_grad_(False)
        num_classes = int(model.num_classes)
        if class_text is None or class_text.ndim != 2 or class_text.shape[0] != num_classes:
            got = None if class_text is None else tuple(class_text.shape)
            raise VireidError(f"csdn: stage-3 text targets must be [{num_classes}, D] (one per training "
                              f"identity), got {got}; the stage outputs do not belong to this data")
        self.register_buffer("class_text", class_text.detach().float(), persistent=False)

    def forward(self, batch: TrainBatch) -> LossResult:
        views = [batch.visible, *batch.extra_visible[:1]]
        out = self.model(visible=torch.cat(views) if len(views) > 1 else batch.visible, infrared=batch.infrared)
        n = batch.visible.shape[0]
        half = batch.labels[:n]
        if not torch.equal(half, batch.labels[n:]):
            raise VireidError("csdn: MSEL needs the i-th visible and i-th infrared rows to share an identity")
        return csdn_loss(self.cfg, out, half, len(views), self.class_text)


def csdn_loss(cfg: CSDNConfig, outputs: dict[str, torch.Tensor], labels: torch.Tensor, views: int,
              class_text: torch.Tensor) -> LossResult:
    """The HSE loss on the network outputs of rows [visible view 1; ...; view ``views``; infrared].

    ``labels`` [N] are the labels of one block (every block has the same rows, in order).
    Computed with autocast off, in float32.
    """
    with full_precision(labels.device):
        return _csdn_loss(cfg, {k: v.float() for k, v in outputs.items() if v.is_floating_point()},
                          labels, views, class_text.float())


def _csdn_loss(cfg, outputs, labels, views, class_text) -> LossResult:
    w = cfg.weights
    n = labels.shape[0]
    all_labels = labels.repeat(views + 1)
    visible_rows = slice(0, views * n)
    infrared_rows = slice(views * n, (views + 1) * n)
    terms: dict[str, torch.Tensor] = {}
    terms["id"] = sum(id_loss(outputs[k].float(), all_labels, cfg.label_smoothing) for k in ("logits", "proj_logits"))
    terms["wrt"] = sum(wrt_loss(outputs[k].float(), all_labels) for k in ("pooled", "proj"))
    msel = []
    for key in ("pooled", "proj"):
        feats = outputs[key].float()
        ir = feats[infrared_rows]
        used = range(views if cfg.msel_views == "mean" else 1)
        msel.append(sum(msel_loss(feats[v * n:(v + 1) * n], ir, labels) for v in used) / len(used))
    terms["msel"] = sum(msel)
    proj = outputs["proj"].float()
    logits = proj @ class_text.float().t()
    terms["text_v"] = F.cross_entropy(logits[visible_rows], all_labels[visible_rows])
    terms["text_r"] = F.cross_entropy(logits[infrared_rows], all_labels[infrared_rows])
    weights = {"id": w.id, "msel": w.msel, "wrt": w.wrt, "text_v": w.text_visible, "text_r": w.text_infrared}
    weighted = {k: weights[k] * terms[k] for k in weights}
    total = weighted["id"] + weighted["msel"] + weighted["wrt"] + weighted["text_v"] + weighted["text_r"]
    detached = {k: v.detach() for k, v in terms.items()}
    detached["total"] = total.detach()
    return LossResult(total=total, terms=detached, weighted=weighted, probe=proj)
