"""The training side of the method contract: what the method-agnostic trainer hands a method
and gets back from it.

:class:`TrainBatch` (one step's inputs), :class:`Objective` (the method's training module,
``forward(batch) -> LossResult``), :class:`LossResult` (total, terms and the diagnostics),
:class:`Stage` / :class:`StageContext` (preparatory stages). A method's declaration (name,
variants, presets, published numbers and the hooks that build these) is
:class:`vireid.methods.method.Method`, which imports no torch; this module does, and loads when
a method trains.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vireid.errors import VireidError


@dataclass
class TrainBatch:
    """One step's inputs, rows in the order [visible; infrared].

    ``labels`` [2PK] are the identity labels of those rows (the i-th visible and the i-th
    infrared row share an identity); ``tokens`` [2PK, 77] their caption token ids when the
    method needs captions; ``extra_visible`` optional further augmented views of the visible
    images (same rows and labels as ``visible``); ``generator`` a CPU generator seeded per
    (seed, epoch, step) for the method's own random draws.
    """

    visible: torch.Tensor
    infrared: torch.Tensor
    labels: torch.Tensor
    tokens: torch.Tensor | None
    generator: torch.Generator
    epoch: int
    step: int
    extra_visible: tuple[torch.Tensor, ...] = ()


@dataclass
class LossResult:
    """``total`` to back-propagate; ``terms`` holds each unweighted term (detached) for logging.

    Diagnostics, part of the contract for every method: ``weighted`` maps every term to its
    weighted value with the graph attached (their sum is ``total``) and ``probe`` is the
    feature the per-term gradient norms are measured against (the projected image feature of
    the batch rows). The trainer calls :meth:`grad_norms` every ``run.grad_norm_every``-th
    step (``grad/<term>`` in the logs); measuring never changes the parameters' gradients.
    """

    total: torch.Tensor
    terms: dict[str, torch.Tensor]
    weighted: dict[str, torch.Tensor] = field(default_factory=dict)
    probe: torch.Tensor | None = None

    def grad_norms(self) -> dict[str, float]:
        """Per weighted term, the mean row norm of its gradient w.r.t. ``probe`` ({} without a probe)."""
        if self.probe is None or not self.weighted or not torch.is_grad_enabled():
            return {}
        return term_grad_norms(self.weighted, self.probe)


def term_grad_norms(weighted: dict[str, torch.Tensor], feature: torch.Tensor) -> dict[str, float]:
    """Per loss term, the mean over rows of ``||d(weighted term) / d feature_row||_2``.

    ``weighted`` maps term names to their weighted values (graph attached). Terms that do
    not depend on ``feature`` give 0. Uses ``torch.autograd.grad`` on ``feature`` only, so
    the network's parameter gradients are untouched (the graph is retained for backward).
    """
    out: dict[str, float] = {}
    for name, value in weighted.items():
        if not value.requires_grad:
            out[name] = 0.0
            continue
        (grad,) = torch.autograd.grad(value, feature, retain_graph=True, allow_unused=True)
        out[name] = 0.0 if grad is None else float(grad.to(torch.promote_types(grad.dtype, torch.float32)).norm(dim=-1).mean())
    return out


class Objective(nn.Module):
    """A method's training module: ``forward(batch) -> LossResult``.

    It owns the network (``self.model``, the part saved for evaluation) and any training-only
    parts (prompt learners, fusion layers, generators), so one DDP wrapper sees every
    trainable parameter in one autograd graph.
    """

    model: nn.Module

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Trainable parameters by learning-rate group (``optim.lr_<group>``)."""
        return self.model.param_groups()

    def extra_state(self) -> dict[str, torch.Tensor]:
        """Weights of training-only parts (saved in checkpoints for exact resume)."""
        own = {k: v for k, v in self.state_dict().items() if not k.startswith("model.")}
        return {k: v.detach().cpu() for k, v in own.items()}

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore :meth:`extra_state` (the network itself is restored separately)."""
        current = self.state_dict()
        own = {k for k in current if not k.startswith("model.")}
        if set(state) != own:
            diff = sorted(own.symmetric_difference(state))
            raise VireidError(f"checkpoint method state does not fit this method's parts (e.g. {diff[0]})")
        self.load_state_dict({**current, **state}, strict=True)


@dataclass
class StageContext:
    """What a preparatory stage may use (built by the trainer)."""

    model: nn.Module
    num_classes: int
    labels: np.ndarray  # [N] training labels, row i = training image i
    modalities: np.ndarray  # [N] "visible" | "infrared"
    captions: list[str] | None  # [N] training captions when the method needs them
    device: torch.device
    seed: int
    autocast: Callable[[], AbstractContextManager]
    image_features: Callable[..., torch.Tensor]  # (key="proj") -> [N, D] un-augmented, no grad
    log: Callable[[str], None]  # one line to the console (main process only)
    progress: bool
    save_progress: Callable[[dict[str, Any]], None]  # atomically store mid-stage state
    load_progress: Callable[[], dict[str, Any] | None]  # the stored state if it matches this stage
    run_dir: Path


class Stage:
    """A preparatory stage that runs once before the main training (e.g. prompt learning).

    ``run`` returns the stage's output (plain data and tensors), which the trainer caches in
    ``<run>/stages/<name>.pt`` keyed by ``fingerprint_config`` plus the data, model and seed,
    stores in checkpoints, and hands to later stages and to ``Method.objective``. A stage that
    can be interrupted should call ``context.save_progress`` each epoch and resume from
    ``context.load_progress()``.
    """

    name: str = ""

    def fingerprint_config(self) -> dict[str, Any]:
        """Everything of the config that changes this stage's output."""
        raise NotImplementedError

    def run(self, context: StageContext, previous: dict[str, dict[str, Any]]) -> dict[str, Any]:
        raise NotImplementedError
