"""Fitting identity prompts to fixed image features (CLIP-ReID stage 1), shared by the methods
that learn one prompt per identity (EEES's ISE row, CLIP4VI-ReID's TSG).

Only the prompt contexts train (Adam), both encoders frozen, with the label-aware image-text
contrastive loss over shuffled batches of image rows; the learning rate warms up linearly and
then follows half a cosine. Progress is saved every epoch through the stage context, so a
killed stage resumes exactly.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from vireid.losses import supervised_contrastive_loss
from vireid.methods.base import StageContext
from vireid.models.prompt_learner import PromptLearner


@dataclass
class PromptFitConfig:
    """The schedule of one prompt-fitting stage (CLIP-ReID stage-1 defaults)."""

    epochs: int = 60
    n_ctx: int = 4  # learnable tokens per identity ("A photo of a X X X X person.")
    lr: float = 3.5e-4
    weight_decay: float = 1e-4
    batch_size: int = 64
    warmup_epochs: int = 5


def cosine_with_warmup(epoch: int, warmup: int, epochs: int) -> float:
    """Learning-rate factor of ``epoch`` (0-based): linear warm-up, then half a cosine."""
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    span = max(1, epochs - warmup)
    return 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / span))


def fit_prompts(context: StageContext, learner: PromptLearner, feats: torch.Tensor, labels: torch.Tensor,
                cfg: PromptFitConfig, temperature: float, *, title: str, loss_key: str) -> list[dict[str, float]]:
    """Train ``learner.ctx`` so each row of ``feats`` [N, D] matches its label's prompt.

    Returns the per-epoch history (``loss/<loss_key>``).
    """
    opt = torch.optim.Adam([learner.ctx], lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(context.seed)
    history: list[dict[str, float]] = []
    start = 0
    saved = context.load_progress()
    if saved is not None:
        with torch.no_grad():
            learner.ctx.copy_(saved["ctx"].to(learner.ctx.device))
        opt.load_state_dict(saved["optimizer"])
        gen.set_state(saved["generator"])
        history, start = list(saved["history"]), int(saved["epoch"])
        context.log(f"{title}: resumed after epoch {start}/{cfg.epochs}")
    bar = tqdm(range(start, cfg.epochs), desc=title, unit="epoch", leave=False, disable=not context.progress)
    for epoch in bar:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * cosine_with_warmup(epoch, cfg.warmup_epochs, cfg.epochs)
        order = torch.randperm(len(labels), generator=gen).to(labels.device)
        total, steps = 0.0, 0
        for idx in order.split(cfg.batch_size):
            if len(idx) < 2:
                continue
            with context.autocast():
                text = learner(labels[idx])
            loss = supervised_contrastive_loss(feats[idx], text.float(), labels[idx], temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            steps += 1
        history.append({"epoch": epoch + 1, f"loss/{loss_key}": total / max(steps, 1)})
        bar.set_postfix(loss=f"{total / max(steps, 1):.4f}")
        # copies: a save_progress that keeps the dict must not see later in-place updates
        context.save_progress(copy.deepcopy({"ctx": learner.ctx.detach().cpu(), "optimizer": opt.state_dict(),
                                             "generator": gen.get_state(), "history": history,
                                             "epoch": epoch + 1}))
    return history
