"""The EEES total loss (Eq. 13) with switches for every ablation row of Table 3.

Feature choices the paper leaves open (chosen for stability, documented here once):
  - ID loss runs on both classifier heads (BNNeck of the pooled map feature and of the
    projected feature) and the WRT loss on both un-normalised features, summed, following
    the CLIP-ReID/CSDN recipe the paper extends.
  - Every text-side term (ESE, CVSC, KD, CMSP, ISE) uses the 1024-d projected image
    feature ``proj`` and the text feature, both L2-normalised first. The contrastive
    similarity is a cosine anyway; normalising before CVSC fusion, KD and CMSP keeps their
    distances bounded (<= 2) and independent of the very different raw norms of CLIP's
    image and text embeddings, so lambda_3 and lambda_4 do not need rescaling per backbone.
  - The temperature is a fixed hyper-parameter (default 0.07, the supervised-contrastive
    value of Khosla et al. 2020 that the paper cites), not CLIP's learnable logit scale:
    with several same-identity captions in each batch a very sharp scale would push apart
    near-duplicates, and a fixed value keeps ablation rows comparable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from vireid.errors import ConfigError, VireidError
from vireid.training.losses.cmsp import cmsp_loss
from vireid.training.losses.contrastive import contrastive_loss, prompt_ce_loss
from vireid.training.losses.cvsc import cvsc_fuse, cvsc_partners, kd_loss
from vireid.training.losses.identity import id_loss
from vireid.training.losses.triplet import wrt_loss

VISIBLE = 0
INFRARED = 1


@dataclass
class LossWeights:
    """lambda_1..lambda_4 of Eq. 13 (paper values)."""

    wrt: float = 0.25
    con: float = 0.2
    kd: float = 0.08
    cmsp: float = 0.01


@dataclass
class LossConfig:
    """Which EEES terms are on. The defaults are the full method (Table 3 row "EEES").

    ``use_ise`` replaces caption targets with learned identity prompts (``prompt_ce_loss``
    weighted by ``weights.con``); it excludes ``use_ese``. CVSC and CMSP need ESE captions.
    """

    use_wrt: bool = True
    use_ise: bool = False
    use_ese: bool = True
    use_cvsc: bool = True
    use_cmsp: bool = True
    weights: LossWeights = field(default_factory=LossWeights)
    m: int = 1
    temperature: float = 0.07
    label_smoothing: float = 0.0

    def validate(self) -> None:
        if self.use_ise and self.use_ese:
            raise ConfigError("loss: use_ise and use_ese are alternatives (prompts or captions), enable one")
        if (self.use_cvsc or self.use_cmsp) and not self.use_ese:
            raise ConfigError("loss: use_cvsc and use_cmsp need use_ese (they operate on caption features)")
        if self.m < 0:
            raise ConfigError(f"loss.m: must be >= 0, got {self.m}")
        if not self.temperature > 0:
            raise ConfigError(f"loss.temperature: must be > 0, got {self.temperature}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"loss.label_smoothing: must be in [0, 1), got {self.label_smoothing}")

    @property
    def needs_captions(self) -> bool:
        return self.use_ese

    @property
    def needs_prompts(self) -> bool:
        return self.use_ise


_OFF = dict(use_wrt=True, use_ise=False, use_ese=False, use_cvsc=False, use_cmsp=False)
LOSS_PRESETS: dict[str, LossConfig] = {
    "baseline": LossConfig(**_OFF),
    "ise": LossConfig(**{**_OFF, "use_ise": True}),
    "ese": LossConfig(**{**_OFF, "use_ese": True}),
    "ese+cvsc": LossConfig(**{**_OFF, "use_ese": True, "use_cvsc": True}),
    "ese+cmsp": LossConfig(**{**_OFF, "use_ese": True, "use_cmsp": True}),
    "eees": LossConfig(),
}


def loss_preset(name: str) -> LossConfig:
    """A fresh copy of the LossConfig of one Table 3 row."""
    if name not in LOSS_PRESETS:
        raise ConfigError(f"unknown loss preset {name!r} (known: {', '.join(LOSS_PRESETS)})")
    return replace(LOSS_PRESETS[name], weights=replace(LOSS_PRESETS[name].weights))


@dataclass
class LossResult:
    """``total`` to back-propagate; ``terms`` holds each unweighted term (detached) for logging."""

    total: torch.Tensor
    terms: dict[str, torch.Tensor]


class EEESLoss(nn.Module):
    """Eq. 13: ``L_id + l1 L_wrt + l2 (L_con^o + L_con^m) + l3 L_kd + l4 L_cmsp``.

    Call with the model's training output dict (keys ``logits``, ``proj_logits``,
    ``pooled``, ``proj``, ``modality``; rows in batch order, ``modality`` 0 = visible,
    1 = infrared), the identity ``labels`` [B], and, depending on the switches, ``text``
    [B, D] (the caption feature of each row) or ``class_text`` [C, D] (one learned prompt
    feature per identity). CMSP pairs the i-th visible row with the i-th infrared row, so
    those must carry the same label (the trainer's sampler orders them so).
    """

    def __init__(self, cfg: LossConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg

    def forward(
        self,
        outputs: Mapping[str, torch.Tensor],
        labels: torch.Tensor,
        text: torch.Tensor | None = None,
        class_text: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> LossResult:
        cfg, w = self.cfg, self.cfg.weights
        terms: dict[str, torch.Tensor] = {}
        heads = [outputs["logits"]] + ([outputs["proj_logits"]] if "proj_logits" in outputs else [])
        terms["id"] = sum(id_loss(h, labels, cfg.label_smoothing) for h in heads)
        total = terms["id"]
        if cfg.use_wrt:
            terms["wrt"] = wrt_loss(outputs["pooled"], labels) + wrt_loss(outputs["proj"], labels)
            total = total + w.wrt * terms["wrt"]
        if cfg.use_ise:
            if class_text is None:
                raise VireidError("loss: the ise preset needs class_text (learned prompt features per identity)")
            terms["ise"] = prompt_ce_loss(outputs["proj"], class_text, labels, cfg.temperature)
            total = total + w.con * terms["ise"]
        if cfg.use_ese:
            if text is None:
                raise VireidError("loss: ESE needs text (one caption feature per image row)")
            total = total + self._text_terms(outputs, labels, text, generator, terms)
        terms = {k: v.detach() for k, v in terms.items()}
        terms["total"] = total.detach()
        return LossResult(total=total, terms=terms)

    def _text_terms(self, outputs, labels, text, generator, terms) -> torch.Tensor:
        cfg, w = self.cfg, self.cfg.weights
        image = F.normalize(outputs["proj"], dim=-1)
        text = F.normalize(text, dim=-1)
        modality = outputs["modality"]
        halves = {}
        for mod in (VISIBLE, INFRARED):
            rows = torch.nonzero(modality == mod).flatten()
            if len(rows):
                halves[mod] = (image[rows], text[rows], labels[rows])
        terms["con_o"] = sum(contrastive_loss(f, t, cfg.temperature) for f, t, _ in halves.values())
        weighted = w.con * terms["con_o"]
        if cfg.use_cvsc:
            con_m, kd = [], []
            for f, t, lab in halves.values():
                partners = cvsc_partners(lab, cfg.m, generator)
                f_m = cvsc_fuse(f, lab, cfg.m, partners=partners)
                t_m = cvsc_fuse(t, lab, cfg.m, partners=partners)
                con_m.append(contrastive_loss(f_m, t_m, cfg.temperature))
                kd.append(kd_loss(f_m, f) + kd_loss(t_m, t))
            terms["con_m"] = sum(con_m)
            terms["kd"] = sum(kd)
            weighted = weighted + w.con * terms["con_m"] + w.kd * terms["kd"]
        if cfg.use_cmsp:
            if set(halves) != {VISIBLE, INFRARED} or not torch.equal(halves[VISIBLE][2], halves[INFRARED][2]):
                raise VireidError(
                    "loss: CMSP needs the i-th visible and i-th infrared rows of the batch to share an identity "
                    "(equal counts, same label order)"
                )
            (f_v, t_v, _), (f_r, t_r, _) = halves[VISIBLE], halves[INFRARED]
            terms["cmsp"] = cmsp_loss(f_v, f_r, t_v, t_r)
            weighted = weighted + w.cmsp * terms["cmsp"]
        return weighted
