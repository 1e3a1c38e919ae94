"""CSDN stages 1 and 2: modality-specific prompts, then the SII fusion.

Both stages train a small part against the projected image feature of every training image,
extracted once (un-augmented test transform, no gradient, the pretrained network), with
``stage_pair_loss`` (SupCon both ways) at temperature 1 on raw dot products,
both modalities pooled in one batch (a same-identity text of the other modality is a
positive too). Progress (trained weights, optimiser, sampling generator, torch RNG, history)
is saved after every epoch, so a killed stage resumes from its last finished epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from vireid.manifests.schema import MODALITIES
from vireid.methods.base import Stage, StageContext
from vireid.methods.csdn.config import FusionConfig, PromptConfig
from vireid.methods.csdn.fusion import SemanticFusion
from vireid.methods.csdn.losses import stage_pair_loss
from vireid.methods.prompt_fitting import fit_stage, frozen
from vireid.models.prompt_learner import PromptLearner
from vireid.schedules import warmup_cosine_lr

PROMPTS = "prompts"
FUSION = "fusion"


def stage_lr(epoch: int, cfg: PromptConfig) -> float:
    """Learning rate of ``epoch`` (0-based): linear warm-up from ``warmup_lr``, then cosine to ``min_lr``."""
    return warmup_cosine_lr(epoch, lr=cfg.lr, epochs=cfg.epochs, warmup_epochs=cfg.warmup_epochs,
                            warmup_lr=cfg.warmup_lr, min_lr=cfg.min_lr)


def _fit(context: StageContext, cfg: PromptConfig, title: str, module: nn.Module,
         params: list[nn.Parameter], loss_of: Callable[[torch.Tensor], torch.Tensor]) -> list[dict[str, float]]:
    """Train ``params`` (of ``module``) with the shared stage loop and CSDN's stage schedule."""

    def load_state(saved: dict[str, Any]) -> None:
        module.load_state_dict(saved["module"])

    return fit_stage(context, title=f"csdn {title} stage", config_key=f"csdn.{title}", loss_key=title,
                     params=params, rows=len(context.labels), loss_of=loss_of, lr=cfg.lr,
                     lr_at=lambda epoch: stage_lr(epoch, cfg), epochs=cfg.epochs, batch_size=cfg.batch_size,
                     weight_decay=cfg.weight_decay,
                     state=lambda: {"module": {k: v.detach().cpu() for k, v in module.state_dict().items()}},
                     load_state=load_state, module=module, keep_rng=True)


class ModalityPromptStage(Stage):
    """Stage 1: one prompt learner per modality ("A photo of a X X X X person.", n_ctx per identity).

    Output: ``ctx_visible``/``ctx_infrared`` [C, n_ctx, width], ``text_visible``/``text_infrared``
    [C, D] (every identity's prompt feature per modality) and the per-epoch ``history``.
    """

    name = PROMPTS

    def __init__(self, cfg: PromptConfig):
        self.cfg = cfg

    def fingerprint_config(self) -> dict[str, Any]:
        return {"prompt": vars(self.cfg)}

    def run(self, context: StageContext, previous: dict[str, dict[str, Any]]) -> dict[str, Any]:
        cfg, dev, model = self.cfg, context.device, context.model
        learners = nn.ModuleDict({m: PromptLearner(context.num_classes, model, n_ctx=cfg.n_ctx) for m in MODALITIES}).to(dev)
        feats = context.image_features("proj").float()
        labels = torch.from_numpy(context.labels).to(dev)
        infrared = torch.from_numpy(context.modalities == "infrared").to(dev)

        def loss_of(rows: torch.Tensor) -> torch.Tensor:
            lab = labels[rows]
            text = feats.new_zeros((len(rows), feats.shape[1]))
            for name in MODALITIES:  # each row gets its own modality's prompt feature
                mine = infrared[rows] if name == "infrared" else ~infrared[rows]
                if bool(mine.any()):
                    ids, inverse = torch.unique(lab[mine], return_inverse=True)
                    with context.autocast():
                        encoded = learners[name](ids)  # each (identity, modality) prompt once
                    text = text.index_put((torch.nonzero(mine).flatten(),), encoded.float()[inverse])
            return stage_pair_loss(feats[rows], text, lab, cfg.temperature)

        with frozen(model.text):
            history = _fit(context, cfg, "prompt", learners, [l.ctx for l in learners.values()], loss_of)
            with context.autocast():
                text = {m: learners[m].class_text_features().float().cpu() for m in MODALITIES}
        return {"ctx_visible": learners["visible"].ctx.detach().cpu(),
                "ctx_infrared": learners["infrared"].ctx.detach().cpu(),
                "text_visible": text["visible"], "text_infrared": text["infrared"], "history": history}


class FusionStage(Stage):
    """Stage 2: train the SII fusion on stage 1's (frozen) prompt features.

    Output: ``fusion`` (its state dict), ``class_text`` [C, D] = the fused text feature of every
    training identity (eval mode, no dropout): stage 3's fixed targets; ``history``.
    """

    name = FUSION

    def __init__(self, cfg: FusionConfig):
        self.cfg = cfg

    def fingerprint_config(self) -> dict[str, Any]:
        return {"fusion": vars(self.cfg)}

    def run(self, context: StageContext, previous: dict[str, dict[str, Any]]) -> dict[str, Any]:
        cfg, dev = self.cfg, context.device
        prompts = previous[PROMPTS]
        text_v = prompts["text_visible"].to(dev).float()
        text_r = prompts["text_infrared"].to(dev).float()
        if text_v.shape[0] != context.num_classes:
            raise ValueError(f"csdn fusion stage: prompt features for {text_v.shape[0]} identities, "
                             f"the data has {context.num_classes}")
        fusion = SemanticFusion(text_v.shape[1], cfg.dropout, cfg.attention).to(dev)
        feats = context.image_features("proj").float()
        labels = torch.from_numpy(context.labels).to(dev)

        def loss_of(rows: torch.Tensor) -> torch.Tensor:
            lab = labels[rows]
            ids, inverse = torch.unique(lab, return_inverse=True)
            text = fusion(text_v[ids], text_r[ids])[inverse]
            return stage_pair_loss(feats[rows], text, lab, cfg.temperature)

        history = _fit(context, cfg, "fusion", fusion, list(fusion.parameters()), loss_of)
        class_text = fuse_all(fusion, text_v, text_r).cpu()
        return {"fusion": {k: v.detach().cpu() for k, v in fusion.state_dict().items()},
                "class_text": class_text, "history": history}


@torch.no_grad()
def fuse_all(fusion: SemanticFusion, text_v: torch.Tensor, text_r: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """[C, D] fused features of every identity, eval mode (channel attention in chunks)."""
    was = fusion.training
    fusion.eval()
    try:
        if fusion.attention == "identities":
            return fusion(text_v, text_r).float()
        return torch.cat([fusion(v, r) for v, r in zip(text_v.split(chunk), text_r.split(chunk))]).float()
    finally:
        fusion.train(was)
