"""The EEES objective (Eq. 13) as a training module, with switches for every Table 3 row.

Feature choices the paper leaves open (chosen for stability, documented here once):
  - ID loss runs on both classifier heads (BNNeck of the pooled map feature and of the
    projected feature) and the WRT loss on both un-normalised features, summed, following
    the CLIP-ReID/CSDN recipe the paper extends.
  - Every text-side term (ESE, CVSC, KD, CMSP, ISE) uses the 1024-d projected image
    feature ``proj`` and the text feature, by default (``eees.text_space = "normalized"``)
    both L2-normalised first; ``"raw"`` keeps the raw features and uses dot products with
    temperature 1 (CLIP-ReID/CSDN). ``eees.positives`` and ``eees.kd_reduction`` choose the
    other two open conventions (EEESConfig, docs/methods/eees.md).
  - With a second visible view in the batch (``augment.second_visible_view``), ID and WRT
    see every view; the text terms see the first view and the infrared rows. The contrastive
    similarity is a cosine anyway; normalising before CVSC fusion, KD and CMSP keeps their
    distances bounded (<= 2) and independent of the very different raw norms of CLIP's
    image and text embeddings, so lambda_3 and lambda_4 do not need rescaling per backbone.
  - The temperature is a fixed hyper-parameter (default 0.07, the supervised-contrastive
    value of Khosla et al. 2020 that the paper cites), not CLIP's learnable logit scale:
    with several same-identity captions in each batch a very sharp scale would push apart
    near-duplicates, and a fixed value keeps ablation rows comparable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vireid.errors import VireidError
from vireid.manifests.schema import MODALITY_INDEX
from vireid.losses import id_loss, wrt_loss
from vireid.methods.eees.losses import cmsp_loss, contrastive_loss, cvsc_fuse, cvsc_partners, kd_loss, prompt_ce_loss
from vireid.methods.base import LossResult, Objective, TrainBatch
from vireid.methods.eees.config import EEESConfig

VISIBLE = MODALITY_INDEX["visible"]
INFRARED = MODALITY_INDEX["infrared"]


class EEESObjective(Objective):
    """Eq. 13: ``L_id + l1 L_wrt + l2 (L_con^o + L_con^m) + l3 L_kd + l4 L_cmsp``.

    The network's training outputs (keys ``logits``, ``proj_logits``, ``pooled``, ``proj``,
    ``modality``; rows [visible; infrared]) and, depending on the switches, the caption
    features of the batch rows or ``class_text`` [C, D] (one learned prompt feature per
    identity, from the ISE stage) feed the terms. CMSP pairs the i-th visible row with the
    i-th infrared row, so those must carry the same label (the trainer's sampler orders them so).
    """

    def __init__(self, cfg: EEESConfig, model: nn.Module, class_text: torch.Tensor | None = None):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.model = model
        if not cfg.use_ese:
            # The text encoder takes no part in this row's loss: freeze it, so DDP sees no
            # unused trainable parameters and the optimiser holds no state for it.
            model.text.requires_grad_(False)
        if cfg.use_ise and class_text is None:
            raise VireidError("eees: the ise variant needs class_text (learned prompt features per identity)")
        self.register_buffer("class_text", class_text, persistent=False)

    def forward(self, batch: TrainBatch) -> LossResult:
        visible, labels = batch.visible, batch.labels
        text_rows = None
        if batch.extra_visible:
            # The authors' loader: every visible image twice per step (view 2 with channel
            # exchange). Identity and triplet losses see every view; the text terms see the
            # first view only (one caption per image): rows [view 1; view 2..; infrared].
            n_vis = visible.shape[0]
            views = (visible, *batch.extra_visible)
            visible = torch.cat(views)
            vis_labels, ir_labels = labels[:n_vis], labels[n_vis:]
            labels = torch.cat([vis_labels] * len(views) + [ir_labels])
            first = torch.arange(n_vis, device=labels.device)
            infrared = torch.arange(len(views) * n_vis, labels.shape[0], device=labels.device)
            text_rows = torch.cat([first, infrared])
        out = self.model(visible=visible, infrared=batch.infrared)
        text = self.model.encode_text(batch.tokens) if batch.tokens is not None else None
        return eees_loss(self.cfg, out, labels, text=text, class_text=self.class_text,
                         generator=batch.generator, text_rows=text_rows)


def eees_loss(cfg: EEESConfig, outputs, labels: torch.Tensor, *, text: torch.Tensor | None = None,
              class_text: torch.Tensor | None = None, generator: torch.Generator | None = None,
              text_rows: torch.Tensor | None = None) -> LossResult:
    """Eq. 13 on one batch's network outputs (see :class:`EEESObjective`).

    ``text`` [B', D]: the caption feature of each text row (ESE rows); ``class_text`` [C, D]:
    one learned prompt feature per identity (ISE row); ``generator`` draws the CVSC partners.
    ``text_rows`` (None = every row): the output rows the text terms use, in order, one per
    ``text`` row (the first visible view and the infrared rows when a second visible view is
    in the batch). The per-term gradient norms are measured against the projected image
    feature (``LossResult.probe``).
    """
    w = cfg.weights
    terms: dict[str, torch.Tensor] = {}
    weighted: dict[str, torch.Tensor] = {}
    heads = [outputs["logits"]] + ([outputs["proj_logits"]] if "proj_logits" in outputs else [])
    terms["id"] = sum(id_loss(h, labels, cfg.label_smoothing) for h in heads)
    weighted["id"] = terms["id"]
    if cfg.use_wrt:
        terms["wrt"] = wrt_loss(outputs["pooled"], labels) + wrt_loss(outputs["proj"], labels)
        weighted["wrt"] = w.wrt * terms["wrt"]
    text_out = outputs
    text_labels = labels
    if text_rows is not None:
        text_out = {"proj": outputs["proj"][text_rows], "modality": outputs["modality"][text_rows]}
        text_labels = labels[text_rows]
    normalize = cfg.text_space == "normalized"
    temperature = cfg.temperature if normalize else 1.0
    if cfg.use_ise:
        if class_text is None:
            raise VireidError("eees: the ise variant needs class_text (learned prompt features per identity)")
        terms["ise"] = prompt_ce_loss(text_out["proj"], class_text, text_labels, temperature, normalize)
        weighted["ise"] = w.con * terms["ise"]
    if cfg.use_ese:
        if text is None:
            raise VireidError("eees: ESE needs text (one caption feature per image row)")
        _text_terms(cfg, text_out, text_labels, text, generator, terms, weighted)
    # Summed in the grouping of Eq. 13 as it was first coded (id + wrt + ise + (text terms)),
    # so seeded runs keep their exact numbers.
    total = weighted["id"]
    for name in ("wrt", "ise"):
        if name in weighted:
            total = total + weighted[name]
    text_names = [n for n in ("con_o", "con_m", "kd", "cmsp") if n in weighted]
    if text_names:
        text_total = weighted[text_names[0]]
        for name in text_names[1:]:
            text_total = text_total + weighted[name]
        total = total + text_total
    terms = {k: v.detach() for k, v in terms.items()}
    terms["total"] = total.detach()
    return LossResult(total=total, terms=terms, weighted=weighted, probe=outputs["proj"])


def _text_terms(cfg: EEESConfig, outputs, labels, text, generator, terms, weighted) -> None:
    w = cfg.weights
    normalize = cfg.text_space == "normalized"
    temperature = cfg.temperature if normalize else 1.0
    image = outputs["proj"]
    if normalize:
        image, text = F.normalize(image, dim=-1), F.normalize(text, dim=-1)
    modality = outputs["modality"]
    halves = {}
    for mod in (VISIBLE, INFRARED):
        rows = torch.nonzero(modality == mod).flatten()
        if len(rows):
            halves[mod] = (image[rows], text[rows], labels[rows])

    def con(f, t, lab):
        return contrastive_loss(f, t, temperature, labels=lab if cfg.positives == "identity" else None,
                                normalize=normalize)

    terms["con_o"] = sum(con(f, t, lab) for f, t, lab in halves.values())
    weighted["con_o"] = w.con * terms["con_o"]
    if cfg.use_cvsc:
        con_m, kd = [], []
        for f, t, lab in halves.values():
            partners = cvsc_partners(lab, cfg.m, generator)
            f_m = cvsc_fuse(f, lab, cfg.m, partners=partners)
            t_m = cvsc_fuse(t, lab, cfg.m, partners=partners)
            con_m.append(con(f_m, t_m, lab))
            kd.append(kd_loss(f_m, f, cfg.kd_reduction) + kd_loss(t_m, t, cfg.kd_reduction))
        terms["con_m"] = sum(con_m)
        terms["kd"] = sum(kd)
        weighted["con_m"] = w.con * terms["con_m"]
        weighted["kd"] = w.kd * terms["kd"]
    if cfg.use_cmsp:
        if set(halves) != {VISIBLE, INFRARED} or not torch.equal(halves[VISIBLE][2], halves[INFRARED][2]):
            raise VireidError(
                "eees: CMSP needs the i-th visible and i-th infrared rows of the batch to share an identity "
                "(equal counts, same label order)"
            )
        (f_v, t_v, _), (f_r, t_r, _) = halves[VISIBLE], halves[INFRARED]
        terms["cmsp"] = cmsp_loss(f_v, f_r, t_v, t_r)
        weighted["cmsp"] = w.cmsp * terms["cmsp"]
