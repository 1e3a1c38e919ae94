"""The stored form of a network: the vireid checkpoint format and :func:`load_model`.

A checkpoint is a ``torch.save``'d dict of plain data and tensors, read with
``torch.load(weights_only=True)``. Every reader relies on ``format = "vireid-checkpoint"``,
``version``, ``model_config`` (with ``architecture``: the registered class that rebuilds
it), ``num_classes`` and ``model`` (the state dict). The trainer adds its own keys
(optimiser, scheduler, sampler, RNG, epoch, config, fingerprints, metrics, history,
method and stage state), which evaluation ignores.

Layout versions: 2 (this one) names the architecture; 1 (before the method registry) held
only the two-stem CLIP network, so a version-1 file still loads for evaluation as
``two-stem-clip``; resuming training from it is refused by the trainer with a clear line.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vireid.atomic import atomic_path
from vireid.config import from_dict
from vireid.errors import ConfigError, VireidError
from vireid.models.config import ModelConfig
from vireid.models.registry import build_model

FORMAT = "vireid-checkpoint"
VERSION = 2
READABLE_VERSIONS = (1, 2)
REQUIRED_KEYS = ("format", "version", "model_config", "num_classes", "model")


class CheckpointError(VireidError):
    """A checkpoint is missing, unreadable or not a vireid checkpoint."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus format/version) to ``path`` atomically (temp file + rename)."""
    payload = {"format": FORMAT, "version": VERSION, **state}
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise ValueError(f"checkpoint state lacks {', '.join(missing)}")
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a vireid checkpoint; errors name the path."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle/zip errors come in many types
        # torch's own messages run to a screenful and suggest weights_only=False, which
        # would execute the file's code: keep the first line, never that advice.
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
        first = (text.strip().splitlines() or [""])[0][:120]
        if isinstance(exc, pickle.UnpicklingError) or re.search(r"weights.only|WeightsUnpickler", text, re.I):
            first = ("it holds objects other than tensors and plain data; refused, since loading "
                     "them would run code from the file")
        raise CheckpointError(f"{path}: unreadable checkpoint, not a vireid .pt file "
                              f"({type(exc).__name__}: {first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a vireid checkpoint (no format={FORMAT!r} key)")
    if state.get("version") not in READABLE_VERSIONS:
        raise CheckpointError(f"{path}: checkpoint layout version {state.get('version')!r}; this vireid "
                              f"reads versions {', '.join(map(str, READABLE_VERSIONS))}")
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    return state


def model_checkpoint_state(model: nn.Module) -> dict[str, Any]:
    """The model keys of a checkpoint: ``model_config`` (plain data), ``num_classes``, ``model``.

    The trainer merges these with its own keys and writes them with ``save_checkpoint``.
    """
    return {
        "model_config": model.config_dict(),
        "num_classes": int(model.num_classes),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def model_from_state(state: dict[str, Any], path: str | Path = "checkpoint") -> nn.Module:
    """Rebuild the network a checkpoint state describes and load its weights (CPU, eval mode)."""
    try:
        cfg = from_dict(ModelConfig, state["model_config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path}: invalid model_config (layout version {state.get('version')}): {exc}") from None
    # The weights come from the checkpoint, so the CLIP initialisation is irrelevant: build
    # from a random init instead of requiring the original CLIP weights on this machine.
    try:
        model = build_model(replace(cfg, pretrained="none", clip_weights=None), state["num_classes"])
    except VireidError as exc:
        raise CheckpointError(f"{path}: cannot rebuild the model: {exc}") from None
    model.config = cfg  # the config it was trained with (provenance), not the rebuild one
    weights = state["model"]
    if not isinstance(weights, dict):
        raise CheckpointError(f"{path}: 'model' is not a state dict")
    try:
        result = model.load_state_dict(weights, strict=False)
    except RuntimeError as exc:  # shape mismatches: torch lists every tensor; one line is enough
        shapes = dict(model.state_dict())
        bad = [k for k, v in weights.items() if k in shapes and getattr(v, "shape", None) != shapes[k].shape]
        example = (f", e.g. {bad[0]}: {tuple(weights[bad[0]].shape)} in the file, "
                   f"{tuple(shapes[bad[0]].shape)} in the model" if bad else "")
        raise CheckpointError(f"{path}: weights do not match the {cfg.architecture} model of model_config "
                              f"({len(bad)} tensors of another shape{example})") from None
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{path}: weights do not match the {cfg.architecture} model of model_config "
                              f"({len(result.missing_keys)} missing, {len(result.unexpected_keys)} "
                              f"unexpected tensors, e.g. {(result.missing_keys or result.unexpected_keys)[0]})")
    return model.eval()


def load_model(checkpoint: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The trained network stored in ``checkpoint``, on ``device``, in eval mode.

    Every failure (missing or unreadable file, not a vireid checkpoint, a model config or
    weights that do not fit the network) is a VireidError naming the path: never a silently
    random model.
    """
    path = Path(checkpoint)
    state = load_checkpoint(path, map_location="cpu")
    try:
        model = model_from_state(state, path)
    except RuntimeError as exc:  # shape mismatches: torch lists every tensor; one line is enough
        first = (str(exc).strip().splitlines() or [""])[-1].strip()[:160]
        raise CheckpointError(f"{path}: weights do not match the model of model_config ({first})") from None
    return model.to(device)
