"""Build a ReID model from a vireid checkpoint (the model <-> evaluation contract).

The checkpoint format itself (keys, version, safe loading) lives in
:mod:`vireid.training.checkpoint`; this module adds the model side: what a checkpoint must
hold to rebuild the network (:func:`model_checkpoint_state`) and how to rebuild it
(:func:`load_model`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from vireid.config import from_dict
from vireid.errors import ConfigError, VireidError
from vireid.training.checkpoint import CheckpointError, load_checkpoint
from vireid.training.model import ModelConfig, ReIDModel, build_model


def model_checkpoint_state(model: ReIDModel) -> dict[str, Any]:
    """The model keys of a checkpoint: ``model_config`` (plain data), ``num_classes``, ``model``.

    The trainer merges these with its own keys and writes them with ``save_checkpoint``.
    """
    return {
        "model_config": model.config_dict(),
        "num_classes": int(model.num_classes),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def load_model(checkpoint: str | Path, device: str | torch.device = "cpu") -> ReIDModel:
    """The trained model stored in ``checkpoint``, on ``device``, in eval mode.

    Every failure (missing or unreadable file, not a vireid checkpoint, a model config or
    weights that do not fit the network) is a VireidError naming the path: never a silently
    random model.
    """
    path = Path(checkpoint)
    state = load_checkpoint(path, map_location="cpu")
    try:
        cfg = from_dict(ModelConfig, state["model_config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path}: invalid model_config: {exc}") from None
    # The weights come from the checkpoint, so the CLIP initialisation is irrelevant: build
    # from a random init instead of requiring the original CLIP weights on this machine.
    cfg = replace(cfg, pretrained="none", clip_weights=None)
    try:
        model = build_model(cfg, state["num_classes"])
    except VireidError as exc:
        raise CheckpointError(f"{path}: cannot rebuild the model: {exc}") from None
    # Restore the config the model was trained with (for provenance), not the rebuild one.
    model.config = from_dict(ModelConfig, state["model_config"])
    weights = state["model"]
    if not isinstance(weights, dict):
        raise CheckpointError(f"{path}: 'model' is not a state dict")
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match the model described by model_config: {exc}") from None
    return model.to(device).eval()
